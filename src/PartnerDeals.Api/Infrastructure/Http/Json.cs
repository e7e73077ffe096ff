using System.Text.Json;
using System.Text.Json.Serialization;

namespace PartnerDeals.Api.Infrastructure.Http;

public static class Json
{
    /// <summary>
    /// camelCase properties, lower snake_case enum values (<c>pending_review</c>), and unknown fields
    /// refused rather than silently dropped, so a typo in a field name is an error the caller sees. A
    /// field sent twice is refused too: parsers disagree on which copy wins, and a gateway that checked
    /// the first would pass what the second says.
    /// </summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.AllowDuplicateProperties = false;
    }

    public static readonly JsonSerializerOptions Options = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Configure(options);
        return options;
    }

    /// <summary>The wire name of an enum value, also used as its stored value.</summary>
    public static string Name<TEnum>(TEnum value) where TEnum : struct, Enum =>
        JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    /// <summary>Reads a wire name strictly: <c>percent_of_revenue</c>, not <c>PercentOfRevenue</c>.</summary>
    public static bool TryParse<TEnum>(string name, out TEnum value) where TEnum : struct, Enum
    {
        foreach (var candidate in Enum.GetValues<TEnum>())
        {
            if (Name(candidate) == name)
            {
                value = candidate;
                return true;
            }
        }
        value = default;
        return false;
    }

    public static IEnumerable<string> Names<TEnum>() where TEnum : struct, Enum => Enum.GetValues<TEnum>().Select(Name);

    public static TEnum Parse<TEnum>(string name) where TEnum : struct, Enum =>
        Enum.Parse<TEnum>(name.Replace("_", "", StringComparison.Ordinal), ignoreCase: true);
}
