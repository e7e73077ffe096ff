namespace PartnerDeals.Api.Infrastructure.Http;

/// <summary>
/// Optimistic concurrency: every versioned row has an integer <c>version</c>; its ETag is that
/// number quoted. An update names the version it read and the UPDATE matches on it, so of two
/// concurrent writers exactly one wins and the other gets 412.
/// </summary>
public static class ETags
{
    public static string For(int version) => $"\"{version}\"";

    public enum Match
    {
        Missing,
        Any,
        Version,
        Unusable,
    }

    /// <summary>Reads If-Match: <c>*</c>, or a strong ETag this API issued. Weak tags never match (RFC 9110 §13.1.1).</summary>
    public static Match ReadIfMatch(HttpRequest request, out int version)
    {
        version = 0;
        var header = request.Headers.IfMatch.ToString().Trim();
        if (header.Length == 0) return Match.Missing;
        if (header == "*") return Match.Any;
        foreach (var tag in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (tag.Length > 2 && tag[0] == '"' && tag[^1] == '"' && int.TryParse(tag.AsSpan(1, tag.Length - 2), out version))
            {
                return Match.Version;
            }
        }
        return Match.Unusable;
    }

    /// <summary>Documents that the endpoint answers an ETag header and, for updates, requires If-Match (412, 428).</summary>
    public static RouteHandlerBuilder WithETag(this RouteHandlerBuilder builder, bool requiresIfMatch = false)
    {
        builder.WithMetadata(new Documented(requiresIfMatch));
        return requiresIfMatch
            ? builder.ProducesProblem(StatusCodes.Status412PreconditionFailed).ProducesProblem(StatusCodes.Status428PreconditionRequired)
            : builder;
    }

    /// <summary>Endpoint metadata read by the OpenAPI document.</summary>
    public sealed record Documented(bool RequiresIfMatch);
}
