using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PartnerDeals.Api.Features.RegistrationBatches;

/// <summary>
/// An uploaded batch read whole before anything is stored: CSV (UTF-8 with or without a BOM; <c>,</c> <c>;</c> or tab, told
/// from the header; quoted fields may hold the delimiter and line breaks) or NDJSON (one JSON object a line). A file that
/// cannot be read at all — not UTF-8, no <c>externalRef</c> column, more rows than allowed — is refused as a whole, at once.
/// </summary>
public sealed record BatchFile(string Format, string? Delimiter, IReadOnlyList<string> Columns, IReadOnlyList<BatchFile.Row> Rows)
{
    public const int MaxRows = 10_000;
    public const string NdJson = "application/x-ndjson";

    /// <summary>The columns a row may have (others are kept for the failed-rows file, and otherwise ignored).</summary>
    public static readonly IReadOnlyList<string> Known =
    [
        "externalRef", "onBehalfOf", "companyName", "domain", "country", "industry", "employeeCount", "alternateNames", "contactName",
        "contactEmail", "contactTitle", "dealName", "products", "estimatedValue", "currency", "expectedCloseDate", "dealNotes",
        "relationshipOwner", "demo", "contract",
    ];

    /// <summary>One row: its number in the file (1 for the first after the header), its cells as uploaded, and its fields by column.</summary>
    public sealed record Row(int Number, IReadOnlyList<string> Cells, IReadOnlyDictionary<string, string> Fields)
    {
        public string? this[string column] => Fields.TryGetValue(column, out var value) && value.Trim().Length > 0 ? value.Trim() : null;
    }

    /// <summary>The file, or why it cannot be read.</summary>
    public static (BatchFile? File, string? Problem) Read(byte[] body, string? contentType)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(body);
        }
        catch (DecoderFallbackException)
        {
            return (null, "The file is not UTF-8 text (save it as \"CSV UTF-8\").");
        }
        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];
        var ndjson = contentType?.StartsWith(NdJson, StringComparison.OrdinalIgnoreCase) == true;
        var (file, problem) = ndjson ? ReadNdJson(text) : ReadCsv(text);
        if (problem is not null) return (null, problem);
        if (!file!.Columns.Contains("externalRef", StringComparer.OrdinalIgnoreCase))
        {
            return (null, "Every row needs an externalRef (your own reference for it): the file has no externalRef column.");
        }
        if (file.Rows.Count == 0) return (null, "The file has no rows.");
        if (file.Rows.Count > MaxRows) return (null, $"A batch holds at most {MaxRows:N0} rows; this file has {file.Rows.Count:N0}.");
        return (file, null);
    }

    private static (BatchFile?, string?) ReadCsv(string text)
    {
        var firstLine = text.Split('\n', 2)[0];
        var delimiter = new[] { ',', ';', '\t' }.OrderByDescending(d => firstLine.Count(c => c == d)).First();
        var records = Records(text, delimiter).GetEnumerator();
        if (!records.MoveNext()) return (null, "The file is empty.");
        var columns = records.Current.Select(c => Canonical(c.Trim())).ToList();
        var rows = new List<Row>();
        while (records.MoveNext() && rows.Count <= MaxRows)
        {
            var cells = records.Current;
            if (cells.All(string.IsNullOrWhiteSpace)) continue;
            rows.Add(new Row(rows.Count + 1, cells, Fields(columns, cells)));
        }
        return (new BatchFile("csv", delimiter.ToString(), columns, rows), null);
    }

    /// <summary>RFC 4180 records: a quoted field may hold the delimiter, line breaks and doubled quotes.</summary>
    private static IEnumerable<List<string>> Records(string text, char delimiter)
    {
        var record = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"' && field.Length == 0) quoted = true;
            else if (c == delimiter) { record.Add(field.ToString()); field.Clear(); }
            else if (c is '\r' or '\n')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n') i++;
                record.Add(field.ToString());
                field.Clear();
                yield return record;
                record = [];
            }
            else field.Append(c);
        }
        if (field.Length > 0 || record.Count > 0)
        {
            record.Add(field.ToString());
            yield return record;
        }
    }

    private static (BatchFile?, string?) ReadNdJson(string text)
    {
        var rows = new List<Row>();
        var columns = new List<string>();
        foreach (var (line, index) in text.Split('\n').Select((l, i) => (l.Trim(), i)))
        {
            if (line.Length == 0) continue;
            if (rows.Count > MaxRows) break;
            JsonObject? item;
            try
            {
                item = JsonNode.Parse(line) as JsonObject;
            }
            catch (JsonException)
            {
                item = null;
            }
            if (item is null) return (null, $"Line {index + 1} is not a JSON object.");
            foreach (var (name, _) in item) if (!columns.Contains(Canonical(name))) columns.Add(Canonical(name));
            var fields = item.ToDictionary(p => Canonical(p.Key), p => p.Value switch
            {
                null => "",
                JsonArray list => string.Join('|', list.Select(v => v?.ToString() ?? "")),
                JsonValue value when value.TryGetValue<string>(out var s) => s,
                var other => other.ToJsonString(),
            });
            rows.Add(new Row(rows.Count + 1, columns.Select(c => fields.GetValueOrDefault(c, "")).ToList(), fields));
        }
        return (new BatchFile("ndjson", null, columns, rows), null);
    }

    private static Dictionary<string, string> Fields(IReadOnlyList<string> columns, IReadOnlyList<string> cells) =>
        columns.Select((c, i) => (c, i)).GroupBy(x => x.c).ToDictionary(g => g.Key, g => g.First().i < cells.Count ? cells[g.First().i] : "");

    /// <summary>A known column whatever its case; another as it is.</summary>
    private static string Canonical(string column) => Known.FirstOrDefault(k => k.Equals(column, StringComparison.OrdinalIgnoreCase)) ?? column;

    /// <summary>The template: the known columns and one row that registers as it stands.</summary>
    public static string Template =>
        string.Join(',', Known) + "\r\n"
        + "CRM-2026-0001,,Contoso Pharmaceuticals GmbH,contoso-pharma.de,DE,Pharmaceuticals,850,Contoso Pharma,Maria Schmidt,"
        + "maria.schmidt@contoso-pharma.de,Head of IT,Analytics rollout 2027,Analytics Suite|AN-100,250000,EUR,2027-03-31,,partner,vendor,partner\r\n";
}
