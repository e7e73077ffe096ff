using System.Text.Json.Nodes;

namespace PartnerDeals.IntegrationTests.Support;

/// <summary>
/// The stray characters real CRM exports and spreadsheets carry in an account name, and two that are not text at all
/// (a noncharacter, and half an emoji left by a 255-character truncation). Vendor data holding any of them must be
/// stored cleaned, never refused: a refused opportunity is an account any partner is auto-approved on.
/// </summary>
public static class VendorDebris
{
    /// <summary>Written where a lone surrogate goes: no JSON writer writes one, so <see cref="Json"/> puts its escape there.</summary>
    public const string LoneSurrogate = "@@lone-surrogate@@";

    public static readonly IReadOnlyList<(string What, Func<string, string> Dirty)> Names =
    [
        ("a byte-order mark", n => "\uFEFF" + n),
        ("a trailing CR", n => n + "\r"),
        ("a trailing LF", n => n + "\n"),
        ("tabs for spaces", n => n.Replace(" ", "\t", StringComparison.Ordinal)),
        ("NEL", n => n + "\u0085"),
        ("a bidi override", n => "\u202E" + n + "\u202C"),
        ("NUL", n => n + "\u0000"),
        ("a zero-width space", n => n.Insert(3, "\u200B")),
        ("line separators for spaces", n => n.Replace(" ", "\u2028", StringComparison.Ordinal)),
        ("U+FFFE", n => n + "\uFFFE"),
        ("a lone surrogate", n => n + LoneSurrogate),
    ];

    /// <summary>The JSON text of a node, each <see cref="LoneSurrogate"/> written as the escape of a lone high surrogate.</summary>
    public static string Json(JsonNode node) => node.ToJsonString().Replace(LoneSurrogate, "\\ud83d", StringComparison.Ordinal);
}
