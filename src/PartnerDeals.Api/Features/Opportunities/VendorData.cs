using System.Globalization;
using System.Text;
using PartnerDeals.Api.Infrastructure.Http;
using PartnerDeals.Matching;

namespace PartnerDeals.Api.Features.Opportunities;

/// <summary>What cleaning did to one field of a vendor record.</summary>
/// <param name="Field">The field, as the JSON names it (<c>accountName</c>, <c>alternateNames[2]</c>).</param>
/// <param name="Action"><c>cleaned</c> (characters dropped or spaces collapsed), <c>cut</c> (shortened at a word) or <c>dropped</c> (the value was not usable).</param>
/// <param name="Reason">Why, in words.</param>
public sealed record FieldCleaning(string Field, string Action, string Reason);

/// <summary>
/// Cleans what the vendor's side sends (an upsert, a batch, a CSV import, a CRM pull) before it is validated. An
/// opportunity the pipeline lost to a stray character is an account any partner is auto-approved on, so vendor data is
/// cleaned and kept, never refused for its characters: format and control characters, noncharacters and lone surrogates
/// are dropped; line and paragraph separators, tabs and other spaces become one space; the text is trimmed. An optional
/// field that is still not usable (a website that is no domain, a country that is no code) is dropped, and one over its
/// length is cut at a word. Only the identity, the account name (empty after cleaning) and the status can make a record
/// invalid. What a partner sends is never cleaned: it is the partner's data, and a wrong value gets a clear 400.
/// </summary>
public static class VendorData
{
    /// <summary>The record cleaned, and what was changed or dropped (nothing when it was clean).</summary>
    public static (T Cleaned, IReadOnlyList<FieldCleaning> Changes) Clean<T>(T record) where T : OpportunityFields
    {
        var changes = new List<FieldCleaning>();
        string? Line(string field, string? value, int max)
        {
            var text = Text(value);
            if (!string.IsNullOrWhiteSpace(value) && text != value.Trim(' '))
            {
                changes.Add(new FieldCleaning(field, "cleaned", text is null ? "nothing visible was left; dropped" : "invisible or control characters dropped, spaces collapsed"));
            }
            if (text is { Length: > 0 } && text.Length > max)
            {
                text = Cut(text, max);
                changes.Add(new FieldCleaning(field, "cut", $"longer than {max} characters; cut at a word"));
            }
            return text;
        }

        IReadOnlyList<string>? List(string field, IReadOnlyList<string>? values, int max, int most, Func<string, bool> usable)
        {
            if (values is null) return null;
            var kept = new List<string>();
            for (var i = 0; i < values.Count; i++)
            {
                var text = Line($"{field}[{i}]", values[i], max);
                if (text is null) continue;
                if (!usable(text))
                {
                    changes.Add(new FieldCleaning($"{field}[{i}]", "dropped", "no letters or digits"));
                    continue;
                }
                if (!kept.Contains(text, StringComparer.Ordinal)) kept.Add(text);
            }
            if (kept.Count > most)
            {
                changes.Add(new FieldCleaning(field, "cut", $"more than {most}; the first {most} kept"));
                kept = kept.Take(most).ToList();
            }
            return kept;
        }

        static bool HasLetters(string name) => !CompanyName.Normalise(name).IsEmpty;

        var domain = Line("accountDomain", record.AccountDomain, 2048);
        if (domain is not null && Domains.Host(domain) is null)
        {
            changes.Add(new FieldCleaning("accountDomain", "dropped", $"'{Shorten(domain)}' is not a website, an e-mail address or a host name"));
            domain = null;
        }

        var country = Line("country", record.Country, 100)?.ToUpperInvariant();
        if (country is not null && !IsoCodes.IsCountry(country))
        {
            if (CountryNames.ByName.TryGetValue(country, out var code) && IsoCodes.IsCountry(code))
            {
                changes.Add(new FieldCleaning("country", "cleaned", $"'{Shorten(country)}' read as {code}"));
                country = code;
            }
            else
            {
                changes.Add(new FieldCleaning("country", "dropped", $"'{Shorten(country)}' is not an ISO 3166-1 alpha-2 code"));
                country = null;
            }
        }

        var currency = Line("currency", record.Currency, 100)?.ToUpperInvariant();
        if (currency is not null && !IsoCodes.IsCurrency(currency))
        {
            changes.Add(new FieldCleaning("currency", "dropped", $"'{Shorten(currency)}' is not an ISO 4217 code"));
            currency = null;
        }
        var amount = record.Amount;
        if (amount is not null && (amount < 0 || amount >= 1_000_000_000_000_000m))
        {
            changes.Add(new FieldCleaning("amount", "dropped", "not between 0 and 10^15"));
            amount = null;
        }
        else if (amount is not null && decimal.Round(amount.Value, 4) != amount)
        {
            changes.Add(new FieldCleaning("amount", "cleaned", "rounded to 4 decimals"));
            amount = decimal.Round(amount.Value, 4);
        }
        if (amount is not null && currency is null)
        {
            changes.Add(new FieldCleaning("amount", "dropped", "an amount without a currency cannot be read"));
            amount = null;
        }

        var closeDate = Day("closeDate", record.CloseDate, changes);
        var openedDate = Day("openedDate", record.OpenedDate, changes);
        if (openedDate is not null && closeDate is not null && openedDate > closeDate)
        {
            changes.Add(new FieldCleaning("openedDate", "dropped", "after closeDate"));
            openedDate = null;
        }

        OpportunityFields fields = record;
        var cleaned = fields with
        {
            AccountName = Line("accountName", record.AccountName, 300),
            AccountDomain = domain,
            AlternateNames = List("alternateNames", record.AlternateNames, 300, Company.MaxAlternateNames, HasLetters),
            Products = List("products", record.Products, 200, ProductLines.ProductCatalogue.MaxProducts, _ => true),
            Country = country,
            Owner = Line("owner", record.Owner, 200),
            Stage = Line("stage", record.Stage, 100),
            Amount = amount,
            Currency = currency,
            CloseDate = closeDate,
            OpenedDate = openedDate,
        };
        if (cleaned is OpportunityBatchItem item)
        {
            cleaned = item with { Source = Text(item.Source)?.ToLowerInvariant(), ExternalId = Text(item.ExternalId) };
        }
        return ((T)cleaned, changes);
    }

    /// <summary>
    /// Text as the pipeline keeps it: format and control characters, noncharacters and lone surrogates dropped, every run of
    /// spaces, tabs, line and paragraph separators one space, trimmed; null when nothing is left.
    /// </summary>
    public static string? Text(string? value)
    {
        if (value is null || IsClean(value)) return value;
        var text = new StringBuilder(value.Length);
        var space = false;
        var rest = value.AsSpan();
        while (!rest.IsEmpty)
        {
            var status = Rune.DecodeFromUtf16(rest, out var rune, out var used);
            rest = rest[used..];
            if (status != System.Buffers.OperationStatus.Done) continue; // a lone surrogate
            var category = Rune.GetUnicodeCategory(rune);
            if (Rune.IsWhiteSpace(rune) || category is UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
            {
                space = true;
                continue;
            }
            // U+FFFD stands for what a reader could not decode: nothing of the name is left in it.
            if (category is UnicodeCategory.Control or UnicodeCategory.Format || rune.Value is >= 0xFDD0 and <= 0xFDEF || (rune.Value & 0xFFFE) == 0xFFFE
                || rune == Rune.ReplacementChar)
            {
                continue;
            }
            if (space && text.Length > 0) text.Append(' ');
            space = false;
            text.Append(rune.ToString());
        }
        return text.Length == 0 ? null : text.ToString();
    }

    /// <summary>Printable ASCII with single inner spaces: nearly every value, kept as it is without a copy.</summary>
    private static bool IsClean(string value)
    {
        if (value.Length == 0 || value[0] == ' ' || value[^1] == ' ') return false;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c is < ' ' or > '~' || (c == ' ' && value[i - 1] == ' ')) return false;
        }
        return true;
    }

    /// <summary>At most <paramref name="max"/> characters, cut after the last whole word that fits (mid-word only when a word is longer than half).</summary>
    public static string Cut(string text, int max)
    {
        if (text.Length <= max) return text;
        var end = text.LastIndexOf(' ', max);
        if (end < max / 2) end = char.IsHighSurrogate(text[max - 1]) ? max - 1 : max;
        return text[..end].TrimEnd();
    }

    private static DateOnly? Day(string field, DateOnly? day, List<FieldCleaning> changes)
    {
        if (day is null || day.Value.Year is >= 1900 and <= 2999) return day;
        changes.Add(new FieldCleaning(field, "dropped", $"{day:yyyy-MM-dd} is not between 1900 and 2999"));
        return null;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
