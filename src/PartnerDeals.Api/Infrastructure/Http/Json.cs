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
        options.Converters.Add(new AnyUtf16String());
    }

    /// <summary>
    /// Reads every JSON string, a lone surrogate escape (<c>\ud83d</c>, an emoji cut in half by a CRM's truncation) too, which
    /// the built-in reader refuses for the whole body: a vendor's batch must not be lost to one such field, and a partner's
    /// field then gets its validator's clear answer, not a body that "could not be read".
    /// </summary>
    private sealed class AnyUtf16String : JsonConverter<string>
    {
        public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.String) throw new JsonException($"Expected a string, not {reader.TokenType}.");
            if (!reader.ValueIsEscaped) return reader.GetString();
            try
            {
                return reader.GetString();
            }
            catch (InvalidOperationException)
            {
                return Unescape(reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan);
            }
        }

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);

        /// <summary>A JSON string's raw UTF-8 with its escapes read one by one, so that a \uXXXX may be any UTF-16 code unit.</summary>
        private static string Unescape(ReadOnlySpan<byte> raw)
        {
            var text = new System.Text.StringBuilder(raw.Length);
            var start = 0;
            for (var i = 0; i < raw.Length; i++)
            {
                if (raw[i] != '\\') continue;
                text.Append(System.Text.Encoding.UTF8.GetString(raw[start..i]));
                var escape = (char)raw[++i];
                if (escape == 'u')
                {
                    text.Append((char)int.Parse(System.Text.Encoding.ASCII.GetString(raw.Slice(i + 1, 4)), System.Globalization.NumberStyles.HexNumber,
                        System.Globalization.CultureInfo.InvariantCulture));
                    i += 4;
                }
                else
                {
                    text.Append(escape switch { 'b' => '\b', 'f' => '\f', 'n' => '\n', 'r' => '\r', 't' => '\t', _ => escape });
                }
                start = i + 1;
            }
            return text.Append(System.Text.Encoding.UTF8.GetString(raw[start..])).ToString();
        }
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
