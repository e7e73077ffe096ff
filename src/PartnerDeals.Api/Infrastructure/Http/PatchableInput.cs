using System.Runtime.CompilerServices;

namespace PartnerDeals.Api.Infrastructure.Http;

/// <summary>
/// A request, or a part of one, that an edit may patch (JSON merge patch, RFC 7396): a field sent as null is removed, one
/// left out stays as it is. Binding cannot tell the two apart afterwards, so each field notes a null as it is set.
/// </summary>
public abstract record PatchableInput
{
    private readonly HashSet<string> _sentAsNull = [];

    /// <summary>Whether the request sent <paramref name="field"/> (a property name) as null.</summary>
    public bool SentAsNull(string field) => _sentAsNull.Contains(field);

    protected T Sent<T>(T value, [CallerMemberName] string field = "")
    {
        if (value is null) _sentAsNull.Add(field);
        else _sentAsNull.Remove(field);
        return value;
    }
}
