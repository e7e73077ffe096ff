using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using PartnerDeals.Api.Features.Registrations;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;
using PartnerDeals.Matching;

namespace PartnerDeals.Api.Features.RegistrationBatches;

/// <summary>
/// The <c>registration_batches</c>, <c>registration_batch_rows</c> and <c>batch_external_refs</c> tables: a batch as uploaded,
/// each row's request and what became of it, and each partner's external references with the content they were registered with.
/// </summary>
public sealed class BatchStore(Database database, TimeProvider clock)
{
    private const string BatchColumns = """
        id, partner_id, key_id, person_id, display, mode, state, format, columns, total_rows, body_hash, stamp, error, created_at, updated_at
        """;

    private const string InsertBatchSql = """
        INSERT INTO registration_batches (id, partner_id, key_id, person_id, display, mode, state, format, columns, total_rows, idempotency_key,
            body_hash, stamp, error, created_at, updated_at)
        VALUES (@Id, @PartnerId, @KeyId, @PersonId, @Display, @Mode, @State, @Format, @Columns, @TotalRows, @IdempotencyKey, @BodyHash, NULL, NULL,
            @CreatedAt, @UpdatedAt)
        """;

    private const string InsertRowSql = """
        INSERT INTO registration_batch_rows (batch_id, row_number, external_ref, cells, request, content_hash, earlier_row)
        VALUES (@BatchId, @RowNumber, @ExternalRef, @Cells, @Request, @ContentHash, @EarlierRow)
        """;

    private const string GetBatchSql = "SELECT " + BatchColumns + " FROM registration_batches WHERE id = @Id";

    private const string ByIdempotencyKeySql = "SELECT " + BatchColumns + " FROM registration_batches WHERE partner_id = @PartnerId AND idempotency_key = @Key";

    private const string CountsSql = """
        SELECT
            SUM(CASE WHEN prediction IS NOT NULL THEN 1 ELSE 0 END) AS validated,
            SUM(CASE WHEN outcome IS NOT NULL THEN 1 ELSE 0 END) AS committed
        FROM registration_batch_rows WHERE batch_id = @Id
        """;

    private const string PredictionCountsSql = """
        SELECT prediction AS name, COUNT(*) AS count FROM registration_batch_rows WHERE batch_id = @Id AND prediction IS NOT NULL GROUP BY prediction
        """;

    private const string OutcomeCountsSql = """
        SELECT outcome AS name, COUNT(*) AS count FROM registration_batch_rows WHERE batch_id = @Id AND outcome IS NOT NULL GROUP BY outcome
        """;

    private const string RowsSql = """
        SELECT row_number, external_ref, cells, prediction, outcome, reason, earlier_row, registration_id
        FROM registration_batch_rows WHERE batch_id = @Id ORDER BY row_number
        """;

    private const string ActiveCountsSql = """
        SELECT SUM(CASE WHEN state IN ('validating', 'committing') THEN 1 ELSE 0 END) AS processing,
               SUM(CASE WHEN state = 'received' THEN 1 ELSE 0 END) AS queued
        FROM registration_batches WHERE partner_id = @PartnerId
        """;

    private const string MoveSql = "UPDATE registration_batches SET state = @To, updated_at = @Now WHERE id = @Id AND state = @From";

    public async Task<Batch> CreateAsync(Guid partnerId, ClaimsPrincipal user, string mode, BatchFile file, string? idempotencyKey, string bodyHash,
        DateTimeOffset now, CancellationToken ct)
    {
        var id = Ids.New(now);
        var rows = Prepare(id, file);
        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        await session.ExecuteAsync(InsertBatchSql, new
        {
            Id = id, PartnerId = partnerId, KeyId = user.KeyId(), PersonId = user.PersonId(), Display = user.FindFirstValue(Caller.DisplayClaim),
            Mode = mode, State = BatchStates.Received, file.Format, Columns = JsonSerializer.Serialize(file.Columns), TotalRows = file.Rows.Count,
            IdempotencyKey = idempotencyKey, BodyHash = bodyHash, CreatedAt = now, UpdatedAt = now,
        }, ct);
        await session.ExecuteAsync(InsertRowSql, rows, ct);
        await session.CommitAsync(ct);
        return (await GetAsync(id, ct))!;
    }

    /// <summary>
    /// Each row's request as a single registration would send it (or why it cannot be one), its content's hash, and the earlier row of
    /// the file for the same customer: the same name as the matcher normalises it, or the same website.
    /// </summary>
    private static List<object> Prepare(Guid batchId, BatchFile file)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var rows = new List<object>(file.Rows.Count);
        foreach (var row in file.Rows)
        {
            var request = RequestOf(row);
            var text = request.ToJsonString();
            int? earlier = null;
            if (row["companyName"] is { } name)
            {
                var keys = new[] { "name:" + CompanyName.Normalise(name).Key, "domain:" + Domains.CompanyDomain(row["domain"]) }
                    .Where(k => !k.EndsWith(':')).ToList();
                earlier = keys.Select(k => seen.TryGetValue(k, out var at) ? at : (int?)null).FirstOrDefault(at => at is not null);
                foreach (var key in keys) seen.TryAdd(key, row.Number);
            }
            rows.Add(new
            {
                BatchId = batchId, RowNumber = row.Number, ExternalRef = row["externalRef"], Cells = JsonSerializer.Serialize(row.Cells),
                Request = text, ContentHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
                    System.Text.Encoding.UTF8.GetBytes(text))),
                EarlierRow = earlier,
            });
        }
        return rows;
    }

    /// <summary>A row as the JSON body of <c>POST /v1/registrations</c>; lists (alternate names, products) are separated by <c>|</c>.</summary>
    public static JsonObject RequestOf(BatchFile.Row row)
    {
        JsonNode? Number(string? value) => value is null ? null
            : decimal.TryParse(value, System.Globalization.NumberStyles.Number, System.Globalization.CultureInfo.InvariantCulture, out var n)
                ? JsonValue.Create(n) : JsonValue.Create(value);
        JsonArray? List(string? value) => value is null ? null
            : new JsonArray(value.Split('|', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(v => (JsonNode?)v).ToArray());
        var body = new JsonObject
        {
            ["onBehalfOf"] = row["onBehalfOf"],
            ["customer"] = new JsonObject
            {
                ["companyName"] = row["companyName"], ["domain"] = row["domain"], ["country"] = row["country"], ["industry"] = row["industry"],
                ["employeeCount"] = Number(row["employeeCount"]), ["alternateNames"] = List(row["alternateNames"]),
            },
            ["contact"] = new JsonObject { ["name"] = row["contactName"], ["email"] = row["contactEmail"], ["title"] = row["contactTitle"] },
            ["deal"] = new JsonObject
            {
                ["name"] = row["dealName"], ["products"] = List(row["products"]), ["estimatedValue"] = Number(row["estimatedValue"]),
                ["currency"] = row["currency"], ["expectedCloseDate"] = row["expectedCloseDate"], ["notes"] = row["dealNotes"],
            },
        };
        if ((row["relationshipOwner"] ?? row["demo"] ?? row["contract"]) is not null)
        {
            body["coSell"] = new JsonObject { ["relationshipOwner"] = row["relationshipOwner"], ["demo"] = row["demo"], ["contract"] = row["contract"] };
        }
        // Nulls are left out, as a client leaves out what it does not send.
        foreach (var part in body.Select(p => p.Value).OfType<JsonObject>().Prepend(body).ToList())
        {
            foreach (var empty in part.Where(p => p.Value is null).Select(p => p.Key).ToList()) part.Remove(empty);
        }
        return body;
    }

    public async Task<Batch?> GetAsync(Guid id, CancellationToken ct) =>
        await database.ReadAsync(async session =>
        {
            var row = await session.QuerySingleOrDefaultAsync<BatchRecord>(GetBatchSql, new { Id = id }, ct);
            return row is null ? null : await ViewAsync(session, row, ct);
        }, ct);

    public async Task<(Batch Batch, string BodyHash)?> ByIdempotencyKeyAsync(Guid partnerId, string key, CancellationToken ct) =>
        await database.ReadAsync(async session =>
        {
            var row = await session.QuerySingleOrDefaultAsync<BatchRecord>(ByIdempotencyKeySql, new { PartnerId = partnerId, Key = key }, ct);
            return row is null ? ((Batch, string)?)null : (await ViewAsync(session, row, ct), row.BodyHash);
        }, ct);

    public async Task<(int Processing, int Queued)> ActiveCountsAsync(Guid partnerId, CancellationToken ct)
    {
        var counts = await database.ReadAsync(s => s.QuerySingleOrDefaultAsync<ActiveCounts>(ActiveCountsSql, new { PartnerId = partnerId }, ct), ct);
        return ((int)(counts?.Processing ?? 0), (int)(counts?.Queued ?? 0));
    }

    public async Task<IReadOnlyList<BatchRow>> RowsAsync(Guid id, CancellationToken ct) =>
        (await database.ReadAsync(s => s.QueryAsync<RowRecord>(RowsSql, new { Id = id }, ct), ct)).Select(r => r.ToRow()).ToList();

    /// <summary>Moves a batch from one state to another; false when it was not in <paramref name="from"/>.</summary>
    public async Task<bool> MoveAsync(Guid id, string from, string to, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var session = await database.BeginWriteAsync(connection, ct);
        var moved = await session.ExecuteAsync(MoveSql, new { Id = id, From = from, To = to, Now = clock.GetUtcNow() }, ct) == 1;
        await session.CommitAsync(ct);
        return moved;
    }

    private static async Task<Batch> ViewAsync(DbSession session, BatchRecord row, CancellationToken ct)
    {
        var counts = await session.QuerySingleOrDefaultAsync<RowCounts>(CountsSql, new { row.Id }, ct);
        var predictions = await session.QueryAsync<NamedCount>(PredictionCountsSql, new { row.Id }, ct);
        var outcomes = await session.QueryAsync<NamedCount>(OutcomeCountsSql, new { row.Id }, ct);
        return new Batch
        {
            Id = row.Id, PartnerId = row.PartnerId, Mode = row.Mode, State = row.State, Format = row.Format,
            Columns = JsonSerializer.Deserialize<string[]>(row.Columns) ?? [], TotalRows = row.TotalRows,
            ValidatedRows = (int)(counts?.Validated ?? 0), CommittedRows = (int)(counts?.Committed ?? 0),
            Predictions = predictions.ToDictionary(p => p.Name, p => (int)p.Count), Outcomes = outcomes.ToDictionary(p => p.Name, p => (int)p.Count),
            Error = row.Error, CreatedAt = row.CreatedAt, UpdatedAt = row.UpdatedAt,
        };
    }

    /// <summary>One row of <c>registration_batches</c>, as Dapper reads it.</summary>
    public sealed record BatchRecord
    {
        public Guid Id { get; init; }
        public Guid PartnerId { get; init; }
        public Guid? KeyId { get; init; }
        public Guid? PersonId { get; init; }
        public string? Display { get; init; }
        public string Mode { get; init; } = "";
        public string State { get; init; } = "";
        public string Format { get; init; } = "";
        public string Columns { get; init; } = "";
        public int TotalRows { get; init; }
        public string BodyHash { get; init; } = "";
        public string? Stamp { get; init; }
        public string? Error { get; init; }

        /// <summary>Validated again on the way to being committed: committed as soon as it is.</summary>
        public bool CommitRequested { get; init; }

        public DateTimeOffset CreatedAt { get; init; }
        public DateTimeOffset UpdatedAt { get; init; }

        /// <summary>Who submitted it, as the worker acts for them: the partner's key or person, in the partner role.</summary>
        public ClaimsPrincipal Submitter()
        {
            var claims = new List<Claim> { new(ClaimTypes.Role, "partner"), new(Caller.PartnerIdClaim, PartnerId.ToString()) };
            if (KeyId is { } key) claims.Add(new Claim(Caller.KeyIdClaim, key.ToString()));
            if (PersonId is { } person) claims.Add(new Claim(Caller.PersonIdClaim, person.ToString()));
            if (Display is not null) claims.Add(new Claim(Caller.DisplayClaim, Display));
            return new ClaimsPrincipal(new ClaimsIdentity(claims, "batch", ClaimTypes.Name, ClaimTypes.Role));
        }
    }

    private sealed record RowRecord
    {
        public int RowNumber { get; init; }
        public string? ExternalRef { get; init; }
        public string Cells { get; init; } = "[]";
        public string? Prediction { get; init; }
        public string? Outcome { get; init; }
        public string? Reason { get; init; }
        public int? EarlierRow { get; init; }
        public Guid? RegistrationId { get; init; }

        public BatchRow ToRow() => new()
        {
            Row = RowNumber, ExternalRef = ExternalRef, Prediction = Prediction, Outcome = Outcome, Reason = Reason, EarlierRow = EarlierRow,
            RegistrationId = RegistrationId, Cells = JsonSerializer.Deserialize<string[]>(Cells) ?? [],
        };
    }

    private sealed record RowCounts
    {
        public long? Validated { get; init; }
        public long? Committed { get; init; }
    }

    private sealed record ActiveCounts
    {
        public long? Processing { get; init; }
        public long? Queued { get; init; }
    }

    private sealed record NamedCount
    {
        public string Name { get; init; } = "";
        public long Count { get; init; }
    }
}
