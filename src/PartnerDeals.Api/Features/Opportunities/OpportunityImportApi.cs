using System.Globalization;
using CsvHelper;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Errors;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Opportunities;

/// <summary><c>POST /v1/opportunities/import</c>: a CSV file of opportunities, streamed and written in chunks (<see cref="ImportWriter"/>).</summary>
public static class OpportunityImportApi
{
    private const int MaxListedRejections = 1_000;

    private static readonly string[] CsvColumns =
        ["source", "externalId", "accountName", "accountDomain", "alternateNames", "products", "country", "owner", "stage", "status", "amount", "currency", "closeDate", "openedDate"];

    internal static void MapImport(this RouteGroupBuilder opportunities) =>
        opportunities.MapPost("/import", Import)
            .WithName("ImportOpportunities")
            .WithSummary("Import opportunities from CSV")
            .WithDescription("crm, ops, admin. Body text/csv with a header row naming the columns " + string.Join(", ", CsvColumns)
                + " (any order; source, externalId, accountName and status required; alternateNames and products separated by ;). Streamed and committed in chunks; "
                + "each row is cleaned like every vendor record (see the upsert) and rows it changed are listed with what changed; rows without "
                + "source, externalId, accountName or a status, with malformed quoting or with text that is not UTF-8 are skipped and listed with their reasons. A record above 1 MiB "
                + "stops the import with 413, a body the reader cannot go on with with 400: the rows before it stay imported, and the problem "
                + "document says how many (created, updated, rejected) and the row that stopped it (stoppedAtRow).")
            .Accepts<string>("text/csv")
            .WithMetadata(new RequestSizeLimitAttribute(1L << 30))
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesValidationProblem();

    private static async Task<Results<Ok<OpportunityImportResponse>, ValidationProblem, ProblemHttpResult>> Import(
        HttpRequest http, IValidator<OpportunityBatchItem> validator, Database database, OpportunityStore store, TimeProvider clock, CancellationToken ct)
    {
        if (http.ContentType is not { } contentType || !contentType.StartsWith("text/csv", StringComparison.OrdinalIgnoreCase))
        {
            return TypedResults.Problem(title: "Unsupported media type.", detail: "Send the rows as text/csv.", statusCode: 415,
                type: ProblemTypes.UnsupportedMediaType);
        }

        // The separator is detected and ragged rows read missing fields as empty. A record ends at its line
        // break, so one unterminated quote cannot swallow the rows after it; every malformed row is skipped and
        // listed. A record above 1 MiB stops the import rather than being buffered.
        int rows = 0, rejected = 0, cleanedRows = 0;
        var rejections = new List<UpsertItemResult>();
        var cleanings = new List<CleanedRow>();
        void Reject(UpsertItemResult row)
        {
            rejected++;
            if (rejections.Count < MaxListedRejections) rejections.Add(row);
        }
        var options = new CsvReaderOptions
        {
            TrimWhitespace = true,
            MaxRecordSize = 1 << 20,
            AllowLineBreaksInQuotes = false,
            MalformedData = CsvMalformedDataHandling.Skip,
            OnMalformedRecord = malformed =>
            {
                if (malformed.Reason == CsvMalformedReason.FieldCountMismatch && !malformed.Skipped) return;
                Reject(new UpsertItemResult
                {
                    Index = ++rows, Outcome = UpsertOutcome.Invalid,
                    Errors = new Dictionary<string, string[]> { ["row"] = [$"The row's quoting is malformed ({Json.Name(malformed.Reason)}); it was skipped."] },
                });
            },
        };
        await using var csv = CsvReader.Create(http.Body, options, leaveOpen: true);
        try
        {
            await csv.ReadHeaderAsync(ct);
        }
        catch (CsvFormatException)
        {
            return TypedResults.Problem(title: "The header row could not be read.", detail: "Send one header row of at most 1 MiB naming the columns.",
                statusCode: StatusCodes.Status400BadRequest, type: ProblemTypes.MalformedRequest);
        }
        var columns = CsvColumns.ToDictionary(c => c, c => csv.TryGetFieldIndex(c, out var i) ? i : -1);
        var missing = new[] { "source", "externalId", "accountName", "status" }.Where(c => columns[c] < 0).ToList();
        if (missing.Count > 0)
        {
            return Problems.Validation("header", $"The header row must name the column(s): {string.Join(", ", missing)}.");
        }

        await using var writer = new ImportWriter(database, store, clock);
        try
        {
            while (await csv.ReadAsync(ct))
            {
                rows++;
                var (read, unreadable, dropped) = ReadRow(csv, columns);
                var (item, cleaned) = VendorData.Clean(read);
                // Every reason at once: the validator's, with a value that could not be read reported as such.
                var errors = (await validator.ValidateAsync(item, ct)).ToDictionary();
                foreach (var (field, messages) in unreadable) errors[field] = messages;
                if (errors.Count > 0)
                {
                    Reject(new UpsertItemResult { Index = rows, Source = item.Source, ExternalId = item.ExternalId, Outcome = UpsertOutcome.Invalid, Errors = errors });
                    continue;
                }
                if (dropped.Count + cleaned.Count > 0)
                {
                    cleanedRows++;
                    if (cleanings.Count < MaxListedRejections)
                    {
                        cleanings.Add(new CleanedRow(rows, item.Source, item.ExternalId, [.. dropped, .. cleaned]));
                    }
                }
                await writer.AddAsync(new OpportunityWrite(item.Source!, item.ExternalId!, item), ct);
            }
        }
        catch (Exception e) when (e is CsvFormatException || (e is BadHttpRequestException { StatusCode: 413 }))
        {
            // The rows before the one that stopped the import were valid and are kept (they commit in chunks as
            // they stream); the answer says how many, and where to resume.
            await writer.CompleteAsync(ct);
            var tooLarge = e is BadHttpRequestException || e.Message.Contains("MaxRecordSize", StringComparison.Ordinal)
                || e.Message.Contains("record size", StringComparison.OrdinalIgnoreCase);
            return TypedResults.Problem(
                title: tooLarge ? "A row or the body is too large; the import stopped." : "The CSV could not be read further; the import stopped.",
                detail: $"Row {rows + 1} stopped the import. The {writer.Created + writer.Updated} valid rows before it were imported and stay; "
                    + "send the rest again from that row.",
                statusCode: tooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest,
                type: tooLarge ? ProblemTypes.PayloadTooLarge : ProblemTypes.MalformedRequest,
                extensions: new Dictionary<string, object?>
                {
                    ["stoppedAtRow"] = rows + 1, ["rowsRead"] = rows, ["created"] = writer.Created, ["updated"] = writer.Updated,
                    ["rejected"] = rejected, ["rejectedRows"] = rejections, ["cleaned"] = cleanedRows, ["cleanedRows"] = cleanings,
                });
        }
        await writer.CompleteAsync(ct);

        return TypedResults.Ok(new OpportunityImportResponse
        {
            RowsRead = rows, Created = writer.Created, Updated = writer.Updated, Rejected = rejected, RejectedRows = rejections,
            Cleaned = cleanedRows, CleanedRows = cleanings,
        });
    }

    /// <summary>
    /// Reads one CSV row as a batch item. Text that is not UTF-8 and a status that cannot be read are errors named by their
    /// column; an optional value that cannot be read (an amount, a date) is dropped and said so: the row is kept.
    /// </summary>
    private static (OpportunityBatchItem Item, IDictionary<string, string[]> Errors, List<FieldCleaning> Dropped) ReadRow(
        CsvReader csv, Dictionary<string, int> columns)
    {
        var errors = new Dictionary<string, string[]>();
        var dropped = new List<FieldCleaning>();
        string? Field(string name) =>
            columns[name] is var i and >= 0 && i < csv.FieldCount && csv.GetStringOrNull(i) is { Length: > 0 } v ? v : null;
        // Bytes that are not UTF-8 decode to U+FFFD: the row's text is not what its author wrote.
        foreach (var (name, index) in columns)
        {
            if (index >= 0 && index < csv.FieldCount && csv.GetStringOrNull(index) is { } text && text.Contains('\uFFFD'))
            {
                errors[name] = [$"{name} is not valid UTF-8; save the file as UTF-8."];
            }
        }

        OpportunityStatus? status = null;
        if (Field("status") is { } s)
        {
            if (Json.TryParse<OpportunityStatus>(s.ToLowerInvariant(), out var parsed)) status = parsed;
            else errors["status"] = ["status must be open, won or lost."];
        }
        decimal? amount = null;
        if (Field("amount") is { } a)
        {
            if (decimal.TryParse(a, NumberStyles.Number, CultureInfo.InvariantCulture, out var parsed)) amount = parsed;
            else dropped.Add(new FieldCleaning("amount", "dropped", "not a number such as 125000.50"));
        }
        DateOnly? Date(string name)
        {
            if (Field(name) is not { } d) return null;
            if (DateOnly.TryParseExact(d, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed)) return parsed;
            dropped.Add(new FieldCleaning(name, "dropped", "not a date as yyyy-MM-dd"));
            return null;
        }

        var item = new OpportunityBatchItem
        {
            Source = Field("source"),
            ExternalId = Field("externalId"),
            AccountName = Field("accountName"),
            AccountDomain = Field("accountDomain"),
            // One column, the names separated by ";" (a name itself never needs one).
            AlternateNames = Field("alternateNames")?.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
            Products = Field("products")?.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
            Country = Field("country")?.ToUpperInvariant(),
            Owner = Field("owner"),
            Stage = Field("stage"),
            Status = status,
            Amount = amount,
            Currency = Field("currency")?.ToUpperInvariant(),
            CloseDate = Date("closeDate"),
            OpenedDate = Date("openedDate"),
        };
        return (item, errors, dropped);
    }
}
