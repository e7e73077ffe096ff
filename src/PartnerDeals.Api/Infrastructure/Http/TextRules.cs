using System.Buffers;
using System.Globalization;
using System.Text;
using FluentValidation;

namespace PartnerDeals.Api.Infrastructure.Http;

/// <summary>
/// What text the API stores. A name is one line of visible text: no control characters (NUL, ESC,
/// CR, LF, tab, the line and paragraph separators), no non-characters (U+FFFE, U+FFFF, U+FDD0–U+FDEF), no lone surrogates, and none of the
/// invisible controls that reorder what a reader sees (bidi embeddings, overrides and isolates) or
/// the byte-order mark. The directional marks (LRM, RLM, ALM) stay allowed: right-to-left names carry
/// them legitimately, and matching drops them. Free text (notes, reasons) may also hold line breaks and tabs.
/// </summary>
public static class TextRules
{
    public const string NameMessage = "{PropertyName} must be one line of visible text: no control characters, non-characters or bidi controls.";
    public const string TextMessage = "{PropertyName} must not contain control characters (other than line breaks and tabs), non-characters or bidi controls.";

    public static bool IsName(string? value) => value is null || IsClean(value, allowLineBreaks: false);

    public static bool IsText(string? value) => value is null || IsClean(value, allowLineBreaks: true);

    public static IRuleBuilderOptions<T, string?> Name<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(IsName).WithMessage(NameMessage);

    public static IRuleBuilderOptions<T, string?> FreeText<T>(this IRuleBuilder<T, string?> rule, int max) =>
        rule.MaximumLength(max).Must(IsText).WithMessage(TextMessage);

    private static bool IsClean(string value, bool allowLineBreaks)
    {
        var rest = value.AsSpan();
        while (!rest.IsEmpty)
        {
            // A lone surrogate is not text at all.
            if (Rune.DecodeFromUtf16(rest, out var rune, out var used) != OperationStatus.Done) return false;
            rest = rest[used..];
            var v = rune.Value;
            if (Rune.GetUnicodeCategory(rune) == UnicodeCategory.Control && !(allowLineBreaks && v is '\n' or '\r' or '\t')) return false;
            // The line and paragraph separators break a name as LF does (and end a line in JavaScript).
            if (v is 0x2028 or 0x2029 && !allowLineBreaks) return false;
            if (v is >= 0xFDD0 and <= 0xFDEF || (v & 0xFFFE) == 0xFFFE) return false;
            if (v is 0xFEFF or (>= 0x202A and <= 0x202E) or (>= 0x2066 and <= 0x2069)) return false;
        }
        return true;
    }
}
