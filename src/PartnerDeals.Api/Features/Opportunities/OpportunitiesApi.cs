using System.Globalization;
using CsvHelper;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Errors;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Opportunities;

public static class OpportunitiesApi
{
    private const int MaxListedRejections = 1_000;

    private static readonly string[] CsvColumns =
        ["source", "externalId", "accountName", "accountDomain", "alternateNames", "products", "country", "owner", "stage", "status", "amount", "currency", "closeDate", "openedDate"];

    public static void MapOpportunities(this IEndpointRouteBuilder v1)
    {
        // The direct pipeline belongs to the vendor: no partner key ever reads or writes it.
        var opportunities = v1.MapGroup("/opportunities").WithTags("Direct pipeline").RequireAuthorization(Policies.Vendor);

        opportunities.MapPut("/{source}/{externalId}", Upsert)
            .WithName("UpsertOpportunity")
            .WithSummary("Create or update one opportunity by its CRM identity")
            .WithDescription("crm, ops, admin. 201 when created, 200 when updated. A won opportunity makes its account an existing customer.")
            .WithValidation<UpsertOpportunityRequest>();

        opportunities.MapPost("/batch", Batch)
            .WithName("UpsertOpportunityBatch")
            .WithSummary("Create or update up to 1,000 opportunities in one transaction")
            .WithDescription("crm, ops, admin. Each item is validated on its own: valid items are written together, invalid ones are reported with their errors.")
            .WithValidation<OpportunityBatchRequest>();

        opportunities.MapPost("/import", Import)
            .WithName("ImportOpportunities")
            .WithSummary("Import opportunities from CSV")
            .WithDescription("crm, ops, admin. Body text/csv with a header row naming the columns " + string.Join(", ", CsvColumns)
                + " (any order; source, externalId, accountName and status required; alternateNames and products separated by ;). Streamed and committed in chunks; "
                + "bad rows (invalid values, malformed quoting, text that is not UTF-8) are skipped and listed with their reasons. A record above 1 MiB "
                + "stops the import with 413, a body the reader cannot go on with with 400: the rows before it stay imported, and the problem "
                + "document says how many (created, updated, rejected) and the row that stopped it (stoppedAtRow).")
            .Accepts<string>("text/csv")
            .WithMetadata(new RequestSizeLimitAttribute(1L << 30))
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesValidationProblem();

        opportunities.MapGet("/", List)
            .WithName("ListOpportunities")
            .WithSummary("List opportunities")
            .WithDescription("crm, ops, admin. Oldest first, keyset-paginated; filters source, status, country, domain.");

        opportunities.MapGet("/{source}/{externalId}", Get)
            .WithName("GetOpportunity")
            .WithSummary("Read one opportunity by its CRM identity")
            .WithDescription("crm, ops, admin. The stored fields and the matching keys derived from them (companyDomain, nameKey).")
            .ProducesProblem(StatusCodes.Status404NotFound);

        opportunities.MapDelete("/{source}/{externalId}", Delete)
            .WithName("DeleteOpportunity")
            .WithSummary("Delete one opportunity")
            .WithDescription("crm, ops, admin. It stops taking part in conflict checks at once.")
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<Results<Created<Opportunity>, Ok<Opportunity>, ValidationProblem>> Upsert(
        string source, string externalId, UpsertOpportunityRequest request, Database database, OpportunityStore store, CancellationToken ct)
    {
        if (IdentityErrors(source, externalId) is { Count: > 0 } errors) return Problems.Validation(errors);

        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        var (outcome, _) = (await store.UpsertAsync(session, OpportunityStore.Prepare([new OpportunityWrite(source, externalId, request)]), ct))[0];
        await session.CommitAsync(ct);

        var stored = (await store.GetAsync(source, externalId, ct))!;
        return outcome == UpsertOutcome.Created
            ? TypedResults.Created($"/v1/opportunities/{Uri.EscapeDataString(source)}/{Uri.EscapeDataString(externalId)}", stored)
            : TypedResults.Ok(stored);
    }

    private static async Task<Ok<OpportunityBatchResponse>> Batch(
        OpportunityBatchRequest request, IValidator<OpportunityBatchItem> validator, Database database, OpportunityStore store, CancellationToken ct)
    {
        var results = new UpsertItemResult[request.Items!.Count];
        var valid = new List<(int Index, OpportunityWrite Write)>();
        for (var i = 0; i < request.Items.Count; i++)
        {
            var item = request.Items[i];
            var check = item is null ? null : await validator.ValidateAsync(item, ct);
            if (item is null || !check!.IsValid)
            {
                results[i] = new UpsertItemResult
                {
                    Index = i, Source = item?.Source, ExternalId = item?.ExternalId, Outcome = UpsertOutcome.Invalid,
                    Errors = check?.ToDictionary() ?? new Dictionary<string, string[]> { ["item"] = ["An item is required."] },
                };
                continue;
            }
            valid.Add((i, new OpportunityWrite(item.Source!, item.ExternalId!, item)));
        }

        if (valid.Count > 0)
        {
            var prepared = OpportunityStore.Prepare(valid.Select(v => v.Write).ToList());
            await using var connection = await database.OpenBulkAsync(ct);
            await using var session = await database.BeginWriteAsync(connection, ct);
            var outcomes = await store.UpsertAsync(session, prepared, ct);
            await session.CommitAsync(ct);
            for (var j = 0; j < valid.Count; j++)
            {
                var (index, write) = valid[j];
                results[index] = new UpsertItemResult
                {
                    Index = index, Source = write.Source, ExternalId = write.ExternalId, Outcome = outcomes[j].Outcome, Id = outcomes[j].Id,
                };
            }
        }

        return TypedResults.Ok(new OpportunityBatchResponse
        {
            Created = results.Count(r => r.Outcome == UpsertOutcome.Created),
            Updated = results.Count(r => r.Outcome == UpsertOutcome.Updated),
            Invalid = results.Count(r => r.Outcome == UpsertOutcome.Invalid),
            Items = results,
        });
    }

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
        int rows = 0, rejected = 0;
        var rejections = new List<UpsertItemResult>();
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
                var (item, unreadable) = ReadRow(csv, columns);
                // Every reason at once: the validator's, with a value that could not be read reported as such.
                var errors = (await validator.ValidateAsync(item, ct)).ToDictionary();
                foreach (var (field, messages) in unreadable) errors[field] = messages;
                if (errors.Count > 0)
                {
                    Reject(new UpsertItemResult { Index = rows, Source = item.Source, ExternalId = item.ExternalId, Outcome = UpsertOutcome.Invalid, Errors = errors });
                    continue;
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
                    ["rejected"] = rejected, ["rejectedRows"] = rejections,
                });
        }
        await writer.CompleteAsync(ct);

        return TypedResults.Ok(new OpportunityImportResponse
        {
            RowsRead = rows, Created = writer.Created, Updated = writer.Updated, Rejected = rejected, RejectedRows = rejections,
        });
    }

    /// <summary>Reads one CSV row as a batch item; values that cannot be parsed become errors named by their column.</summary>
    private static (OpportunityBatchItem Item, IDictionary<string, string[]> Errors) ReadRow(CsvReader csv, Dictionary<string, int> columns)
    {
        var errors = new Dictionary<string, string[]>();
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
            else errors["amount"] = ["amount must be a number such as 125000.50."];
        }
        DateOnly? Date(string name)
        {
            if (Field(name) is not { } d) return null;
            if (DateOnly.TryParseExact(d, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed)) return parsed;
            errors[name] = [$"{name} must be a date as yyyy-MM-dd."];
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
        return (item, errors);
    }

    /// <param name="store">The opportunity store.</param>
    /// <param name="ct">Cancellation.</param>
    /// <param name="source">Only this CRM's opportunities.</param>
    /// <param name="status">Only opportunities in this status: open, won, lost.</param>
    /// <param name="country">Only this country (ISO 3166-1 alpha-2).</param>
    /// <param name="domain">Only accounts at this domain (a URL, e-mail or host is reduced to its registrable domain).</param>
    /// <param name="limit">Page size, 1–200 (default 50).</param>
    /// <param name="cursor">The nextCursor of the previous page.</param>
    private static async Task<Results<Ok<Page<Opportunity>>, ValidationProblem>> List(
        OpportunityStore store, CancellationToken ct,
        string? source = null, string? status = null, string? country = null, string? domain = null, int? limit = null, string? cursor = null)
    {
        Paging.TryRead(limit, cursor, out var pageSize, out var after, out var errors);
        var statusFilter = Paging.ReadFilter<OpportunityStatus>(status, "status", errors);
        if (country is not null && !IsoCodes.IsCountry(country)) errors["country"] = ["country must be an ISO 3166-1 alpha-2 code such as DE."];
        if (errors.Count > 0) return Problems.Validation(errors);
        return TypedResults.Ok(await store.ListAsync(source, statusFilter, country, domain, pageSize, after, ct));
    }

    private static async Task<Results<Ok<Opportunity>, ProblemHttpResult>> Get(string source, string externalId, OpportunityStore store, CancellationToken ct) =>
        await store.GetAsync(source, externalId, ct) is { } opportunity ? TypedResults.Ok(opportunity) : Problems.NotFound("The opportunity");

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(string source, string externalId, OpportunityStore store, CancellationToken ct) =>
        await store.DeleteAsync(source, externalId, ct) ? TypedResults.NoContent() : Problems.NotFound("The opportunity");

    private static Dictionary<string, string[]> IdentityErrors(string source, string externalId)
    {
        var errors = new Dictionary<string, string[]>();
        if (!OpportunityIdentity.IsSource(source)) errors["source"] = [OpportunityIdentity.SourceRule];
        if (!OpportunityIdentity.IsExternalId(externalId)) errors["externalId"] = [OpportunityIdentity.ExternalIdRule];
        return errors;
    }
}
