using System.Text.Json;
using Dapper;
using PartnerDeals.Api.Features.ConflictChecks;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;
using PartnerDeals.Matching;

namespace PartnerDeals.Api.Features.Registrations;

public enum ConflictStatus
{
    Open,
    Resolved,
}

public enum ConflictResolution
{
    /// <summary>Ops award the account to the partner: the registration is approved.</summary>
    AwardPartner,

    /// <summary>The direct team keeps the account: the registration is rejected.</summary>
    KeepDirect,

    /// <summary>Partner and direct team sell together: the registration is approved as co-sell.</summary>
    CoSell,

    /// <summary>The registration is rejected.</summary>
    Reject,

    /// <summary>Set by the service: a later check of the registration found no match any more.</summary>
    Cleared,

    /// <summary>Set by the service: the registration was withdrawn, rejected or closed while the conflict was open.</summary>
    RegistrationClosed,
}

/// <summary>One record the registration matched, as it was when the check ran.</summary>
/// <param name="Kind">direct_opportunity, existing_customer, partner_registration or duplicate_registration.</param>
/// <param name="Id">The opportunity's or registration's id.</param>
/// <param name="AccountName">The company name the record has.</param>
/// <param name="Score">0 to 1.</param>
/// <param name="Verdict">review or conflict.</param>
/// <param name="Signals">The evidence that fired.</param>
public sealed record ConflictCandidate(CandidateKind Kind, Guid Id, string AccountName, double Score, Verdict Verdict, IReadOnlyList<MatchSignal> Signals);

/// <summary>A registration's collision with other claims on the account, and how it was resolved.</summary>
public sealed record Conflict
{
    public required Guid Id { get; init; }
    public required Guid RegistrationId { get; init; }

    /// <example>open</example>
    public required ConflictStatus Status { get; init; }

    /// <summary>The kind of the strongest match.</summary>
    /// <example>direct_opportunity</example>
    public required CandidateKind Kind { get; init; }

    /// <example>conflict</example>
    public required Verdict Verdict { get; init; }

    /// <summary>The strongest match's score.</summary>
    /// <example>0.99</example>
    public required double Score { get; init; }

    /// <summary>The registration policy that decided.</summary>
    /// <example>1-5c1f0d2a</example>
    public required string PolicyVersion { get; init; }

    /// <summary>Every match at review level or above, strongest first (absent in lists).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ConflictCandidate>? Candidates { get; init; }

    public ConflictResolution? Resolution { get; init; }
    public string? ResolutionNote { get; init; }
    public DateTimeOffset? ResolvedAt { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>The <c>conflicts</c> table and the candidates each one records.</summary>
public sealed class ConflictStore(Database database)
{
    // score is NUMERIC in SQLite, which stores a whole score (1.0) as an integer: read through the double type handler.
    private const string Columns = """
        id, registration_id, status, kind, verdict, score, policy_version, resolution, resolution_note, resolved_at,
        created_at, updated_at
        """;

    private const string InsertSql = """
        INSERT INTO conflicts (id, registration_id, status, kind, verdict, score, policy_version, created_at, updated_at)
        VALUES (@Id, @RegistrationId, @Status, @Kind, @Verdict, @Score, @PolicyVersion, @CreatedAt, @UpdatedAt)
        """;

    private const string RecheckSql = """
        UPDATE conflicts SET kind = @Kind, verdict = @Verdict, score = @Score, policy_version = @PolicyVersion, updated_at = @UpdatedAt
        WHERE id = @Id AND status = 'open'
        """;

    private const string InsertCandidateSql = """
        INSERT INTO conflict_candidates (conflict_id, candidate_id, kind, label, score, verdict, signals)
        VALUES (@ConflictId, @CandidateId, @Kind, @Label, @Score, @Verdict, @Signals)
        """;

    private const string DeleteCandidatesSql = "DELETE FROM conflict_candidates WHERE conflict_id = @Id";

    private const string ResolveSql = """
        UPDATE conflicts
        SET status = 'resolved', resolution = @Resolution, resolution_note = @ResolutionNote, resolved_by_key_id = @ResolvedByKeyId,
            resolved_by_person_id = @ResolvedByPersonId, resolved_at = @ResolvedAt, updated_at = @UpdatedAt
        WHERE id = @Id AND status = 'open'
        """;

    private const string NamingSql = """
        SELECT c.registration_id FROM conflicts c JOIN conflict_candidates cc ON cc.conflict_id = c.id
        WHERE c.status = 'open' AND cc.candidate_id = @CandidateId
        """;

    private const string OpenForSql = "SELECT " + Columns + " FROM conflicts WHERE registration_id = @RegistrationId AND status = 'open'";

    private const string GetSql = "SELECT " + Columns + " FROM conflicts WHERE id = @Id";

    private const string CandidatesSql = """
        SELECT candidate_id, kind, label, score, verdict, signals FROM conflict_candidates WHERE conflict_id = @Id
        ORDER BY score DESC, candidate_id
        """;

    private const string ListSql = "SELECT " + Columns + """

        FROM conflicts
        WHERE (@Status IS NULL OR status = @Status)
          AND (@Kind IS NULL OR kind = @Kind)
          AND (@RegistrationId IS NULL OR registration_id = @RegistrationId)
          AND (@After IS NULL OR id > @After)
        ORDER BY id
        """;

    /// <summary>The registrations whose open conflict names <paramref name="candidateId"/> (a registration or an opportunity).</summary>
    public async Task<IReadOnlyList<Guid>> OpenNamingAsync(DbSession session, Guid candidateId, CancellationToken ct) =>
        (await session.QueryAsync<Guid>(NamingSql, new { CandidateId = candidateId }, ct)).AsList();

    public async Task<Conflict?> OpenForAsync(DbSession session, Guid registrationId, CancellationToken ct)
    {
        var row = await session.QueryFirstOrDefaultAsync<ConflictRow>(OpenForSql, new { RegistrationId = registrationId }, ct);
        return row?.ToConflict(null);
    }

    /// <summary>Opens a conflict for the registration, or brings its open one up to date with a new check.</summary>
    public async Task<Guid> RecordAsync(DbSession session, Guid registrationId, Guid? openId, IReadOnlyList<ScoredCandidate> matches, string policyVersion,
        DateTimeOffset now, CancellationToken ct)
    {
        var top = matches[0];
        var summary = new ConflictRow
        {
            Id = openId ?? Ids.New(now),
            RegistrationId = registrationId,
            Status = Json.Name(ConflictStatus.Open),
            Kind = Json.Name(top.Candidate.Kind),
            Verdict = Json.Name(top.Match.Verdict),
            Score = Math.Round(top.Match.Score, 6),
            PolicyVersion = policyVersion,
            CreatedAt = now,
            UpdatedAt = now,
        };
        if (openId is null)
        {
            await session.ExecuteAsync(InsertSql, summary, ct);
        }
        else
        {
            await session.ExecuteAsync(RecheckSql, summary, ct);
            await session.ExecuteAsync(DeleteCandidatesSql, new { Id = openId }, ct);
        }
        await session.ExecuteAsync(InsertCandidateSql, matches.Select(m => CandidateRow.From(summary.Id, m)).ToList(), ct);
        return summary.Id;
    }

    /// <summary>Resolves an open conflict, by the person or key deciding (null: the service itself); false when it was not open any more.</summary>
    public async Task<bool> ResolveAsync(DbSession session, Guid id, ConflictResolution resolution, string? note, Audit.Actor? actor, DateTimeOffset now,
        CancellationToken ct) =>
        await session.ExecuteAsync(ResolveSql, new ConflictRow
        {
            Id = id,
            Resolution = Json.Name(resolution),
            ResolutionNote = note,
            ResolvedByKeyId = actor?.KeyId,
            ResolvedByPersonId = actor?.PersonId,
            ResolvedAt = now,
            UpdatedAt = now,
        }, ct) == 1;

    public async Task<Conflict?> GetAsync(DbSession session, Guid id, CancellationToken ct)
    {
        var row = await session.QuerySingleOrDefaultAsync<ConflictRow>(GetSql, new { Id = id }, ct);
        if (row is null) return null;
        var candidates = await session.QueryAsync<CandidateRow>(CandidatesSql, new { Id = id }, ct);
        return row.ToConflict(candidates.Select(c => c.ToCandidate()).ToList());
    }

    public async Task<Conflict?> GetAsync(Guid id, CancellationToken ct)
    {
        return await database.ReadAsync(session => GetAsync(session, id, ct), ct);
    }

    public async Task<Page<Conflict>> ListAsync(ConflictStatus? status, CandidateKind? kind, Guid? registrationId, int pageSize, Guid? after,
        CancellationToken ct)
    {
        var rows = (await database.ReadAsync(read => read.QueryAsync<ConflictRow>(database.Dialect.Page(ListSql), new
        {
            Status = status is { } s ? Json.Name(s) : null,
            Kind = kind is { } k ? Json.Name(k) : null,
            RegistrationId = registrationId,
            After = after,
            Limit = pageSize + 1,
        }, ct), ct)).AsList();
        return Paging.ToPage(rows, pageSize, r => r.Id, r => r.ToConflict(null));
    }

    /// <summary>One row of <c>conflicts</c>, as Dapper writes it (its properties are the statements' parameters) and reads it back.</summary>
    private sealed record ConflictRow
    {
        public Guid Id { get; init; }
        public Guid RegistrationId { get; init; }
        public string Status { get; init; } = "";
        public string Kind { get; init; } = "";
        public string Verdict { get; init; } = "";
        public double Score { get; init; }
        public string PolicyVersion { get; init; } = "";
        public string? Resolution { get; init; }
        public string? ResolutionNote { get; init; }

        /// <summary>The API key that resolved it; written, never read back.</summary>
        public Guid? ResolvedByKeyId { get; init; }

        /// <summary>Written, not read back: the audit event names the person too.</summary>
        public Guid? ResolvedByPersonId { get; init; }

        public DateTimeOffset? ResolvedAt { get; init; }
        public DateTimeOffset CreatedAt { get; init; }
        public DateTimeOffset UpdatedAt { get; init; }

        public Conflict ToConflict(IReadOnlyList<ConflictCandidate>? candidates) => new()
        {
            Id = Id,
            RegistrationId = RegistrationId,
            Status = Json.Parse<ConflictStatus>(Status),
            Kind = Json.Parse<CandidateKind>(Kind),
            Verdict = Json.Parse<Verdict>(Verdict),
            Score = Score,
            PolicyVersion = PolicyVersion,
            Candidates = candidates,
            Resolution = Resolution is null ? null : Json.Parse<ConflictResolution>(Resolution),
            ResolutionNote = ResolutionNote,
            ResolvedAt = ResolvedAt,
            CreatedAt = CreatedAt,
            UpdatedAt = UpdatedAt,
        };
    }

    /// <summary>One row of <c>conflict_candidates</c>, written and read.</summary>
    private sealed record CandidateRow
    {
        public Guid ConflictId { get; init; }
        public Guid CandidateId { get; init; }
        public string Kind { get; init; } = "";
        public string Label { get; init; } = "";
        public double Score { get; init; }
        public string Verdict { get; init; } = "";
        public string Signals { get; init; } = "[]";

        public static CandidateRow From(Guid conflictId, ScoredCandidate m) => new()
        {
            ConflictId = conflictId,
            CandidateId = m.Candidate.Id,
            Kind = Json.Name(m.Candidate.Kind),
            Label = m.Candidate.AccountName,
            Score = Math.Round(m.Match.Score, 6),
            Verdict = Json.Name(m.Match.Verdict),
            Signals = JsonSerializer.Serialize(m.Match.Signals, Json.Options),
        };

        public ConflictCandidate ToCandidate() => new(Json.Parse<CandidateKind>(Kind), CandidateId, Label, Score, Json.Parse<Verdict>(Verdict),
            JsonSerializer.Deserialize<List<MatchSignal>>(Signals, Json.Options) ?? []);
    }
}
