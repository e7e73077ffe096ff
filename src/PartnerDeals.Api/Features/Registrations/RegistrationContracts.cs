using System.Text.Json.Serialization;
using PartnerDeals.Api.Features.Partners;
using PartnerDeals.Api.Infrastructure.Http;
using PartnerDeals.Matching;

namespace PartnerDeals.Api.Features.Registrations;

public enum RegistrationStatus
{
    PendingReview,
    MoreInfoRequested,
    Approved,
    Rejected,
    Withdrawn,
    Expired,
    Won,
    Lost,
}

/// <summary>Who takes a part of the deal.</summary>
public enum CoSellParty
{
    Partner,
    Vendor,
    Joint,
}

/// <summary>Why ops rejected a registration.</summary>
public enum RejectionReason
{
    Duplicate,
    DirectConflict,
    ExistingCustomer,
    NotIcp,
    Incomplete,
    Other,
}

public enum OutcomeResult
{
    Won,
    Lost,
}

public sealed record Customer(string CompanyName, string? Domain, string Country, string? Industry, int? EmployeeCount)
{
    /// <summary>Other names the company is known by.</summary>
    public IReadOnlyList<string> AlternateNames { get; init; } = [];
}

public sealed record Contact(string Name, string Email, string? Title);

/// <summary>One person's approval of a deal above the second-approval value.</summary>
/// <param name="PersonId">The person who approved.</param>
/// <param name="Display">Their name as their issuer gave it.</param>
/// <param name="At">When (UTC).</param>
public sealed record Approval(Guid PersonId, string Display, DateTimeOffset At);

public sealed record Deal(string Name, IReadOnlyList<string> Products, decimal EstimatedValue, string Currency, DateOnly? ExpectedCloseDate, string? Notes);

public sealed record CoSell(CoSellParty RelationshipOwner, CoSellParty Demo, CoSellParty Contract);

/// <param name="Qualified">Whether the registration fits the ideal customer profile.</param>
/// <param name="FailedRule">The first rule it failed (e.g. <c>country</c>, <c>min_deal_size</c>), or null.</param>
public sealed record IcpResult(bool Qualified, string? FailedRule);

public sealed record Outcome(OutcomeResult Result, decimal? Amount, string? Currency, DateTimeOffset ClosedAt, string? LostReason)
{
    /// <summary>The products a won deal sold, as recorded; empty when the outcome named none.</summary>
    public IReadOnlyList<string> Products { get; init; } = [];
}

/// <summary>A deal registration and what was decided about it.</summary>
public sealed record Registration
{
    public required Guid Id { get; init; }
    public required Guid PartnerId { get; init; }

    /// <summary>The distributor that registered this deal for its reseller (the partner above); null when the partner did.</summary>
    public Guid? RegisteredBy { get; init; }

    /// <example>approved</example>
    public required RegistrationStatus Status { get; init; }

    /// <summary>The conflict check: <c>clear</c>, <c>review</c> or <c>conflict</c>; a partner reads <c>clear</c> or <c>conflict</c> (the account is not available).</summary>
    /// <example>clear</example>
    public required Verdict Verdict { get; init; }

    /// <summary>
    /// Safe to show the partner, never whose claim collides: auto_approved, approved, co_sell, awaiting_review,
    /// account_under_review (vendor keys; a partner reads account_unavailable), account_unavailable, alternate_names_unrelated, duplicate_registration, more_information_requested, rejected_*,
    /// withdrawn, protection_expired, closed_won, closed_lost.
    /// </summary>
    /// <example>auto_approved</example>
    public required string Reason { get; init; }

    public required Customer Customer { get; init; }
    public required Contact Contact { get; init; }
    public required Deal Deal { get; init; }
    public required CoSell CoSell { get; init; }

    /// <summary>True when ops resolved a conflict as co-sell with the direct team.</summary>
    public required bool CoSelling { get; init; }

    public required IcpResult Icp { get; init; }

    /// <summary>The version of the registration policy that made the last decision.</summary>
    /// <example>1-5c1f0d2a</example>
    public required string PolicyVersion { get; init; }

    /// <summary>Set when rejected; vendor keys only (a partner reads <c>reason</c>, which never says whose claim or pipeline won).</summary>
    public RejectionReason? RejectionReason { get; init; }

    /// <summary>The channel team's note on the last decision. A partner reads it only when ops shared it (<c>visibleToPartner</c>).</summary>
    public string? DecisionNote { get; init; }

    /// <summary>Whether ops shared the decision's note with the partner.</summary>
    public bool DecisionNoteVisibleToPartner { get; init; }

    /// <summary>Until when an approved registration holds the account.</summary>
    public DateTimeOffset? ProtectionExpiresAt { get; init; }

    public required int ExtensionsGranted { get; init; }

    /// <summary>Set at approval.</summary>
    public TermsSnapshot? Terms { get; init; }

    public Outcome? Outcome { get; init; }

    /// <summary>
    /// Who approved a deal above <c>Registrations:Policy:SecondApprovalAbove</c>: the first person while it waits for a second,
    /// then both. Vendor only (empty for a partner).
    /// </summary>
    public IReadOnlyList<Approval> Approvals { get; init; } = [];

    /// <summary>The open conflict, for vendor keys only.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Guid? ConflictId { get; init; }

    public required DateTimeOffset SubmittedAt { get; init; }
    public DateTimeOffset? DecidedAt { get; init; }

    /// <summary>The latest approval; kept when the registration is later won, lost, expired or withdrawn.</summary>
    public DateTimeOffset? ApprovedAt { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    [JsonIgnore]
    public int Version { get; init; }

    /// <summary>The version of what the partner sees: its ETag for partner keys.</summary>
    [JsonIgnore]
    public int PartnerVersion { get; init; }

    /// <summary>When what the partner sees last changed: <c>updatedAt</c> for partner keys.</summary>
    [JsonIgnore]
    public DateTimeOffset PartnerUpdatedAt { get; init; }

    /// <summary>The order of submission (precedence among claims); 0 until stored.</summary>
    [JsonIgnore]
    public long Seq { get; init; }

    /// <summary>The registration as a partner may see it: no conflict, no raw rejection reason, no internal note, and its own version and time.</summary>
    public Registration ForPartner() => this with
    {
        // Available or not, never how close a match came: review and conflict read alike, or trying names would map the pipeline.
        Verdict = Verdict == Verdict.Clear ? Verdict.Clear : Verdict.Conflict,
        Reason = Reason == "account_under_review" ? "account_unavailable" : Reason,
        ConflictId = null, RejectionReason = null, Approvals = [], DecisionNote = DecisionNoteVisibleToPartner ? DecisionNote : null, UpdatedAt = PartnerUpdatedAt,
    };

    /// <summary>
    /// <paramref name="changed"/> as the next version of this registration, changed at <paramref name="now"/>.
    /// The partner's version and time move only when what the partner sees moved.
    /// </summary>
    public Registration NextVersion(Registration changed, DateTimeOffset now)
    {
        var seenByPartner = PartnerView(this) != PartnerView(changed);
        return changed with
        {
            Version = Version + 1,
            UpdatedAt = now,
            PartnerVersion = seenByPartner ? PartnerVersion + 1 : PartnerVersion,
            PartnerUpdatedAt = seenByPartner ? now : PartnerUpdatedAt,
        };
    }

    private static string PartnerView(Registration r) =>
        System.Text.Json.JsonSerializer.Serialize(r.ForPartner() with { UpdatedAt = default }, Json.Options);

    public IReadOnlyDictionary<string, object?> AuditFields() => new Dictionary<string, object?>
    {
        ["status"] = Json.Name(Status),
        ["verdict"] = Json.Name(Verdict),
        ["reason"] = Reason,
        ["customer.companyName"] = Customer.CompanyName,
        ["customer.domain"] = Customer.Domain,
        ["customer.country"] = Customer.Country,
        ["customer.alternateNames"] = string.Join("; ", Customer.AlternateNames),
        ["customer.industry"] = Customer.Industry,
        ["customer.employeeCount"] = Customer.EmployeeCount,
        ["contact.name"] = Contact.Name,
        ["contact.email"] = Contact.Email,
        ["contact.title"] = Contact.Title,
        ["deal.name"] = Deal.Name,
        ["deal.products"] = string.Join(", ", Deal.Products),
        ["deal.estimatedValue"] = Deal.EstimatedValue,
        ["deal.currency"] = Deal.Currency,
        ["deal.expectedCloseDate"] = Deal.ExpectedCloseDate,
        ["deal.notes"] = Deal.Notes,
        ["coSell.relationshipOwner"] = Json.Name(CoSell.RelationshipOwner),
        ["coSell.demo"] = Json.Name(CoSell.Demo),
        ["coSell.contract"] = Json.Name(CoSell.Contract),
        ["icp.qualified"] = Icp.Qualified,
        ["icp.failedRule"] = Icp.FailedRule,
        ["protectionExpiresAt"] = ProtectionExpiresAt,
    };
}

public sealed record Note(Guid Id, Guid RegistrationId, string AuthorRole, bool Internal, string Body, DateTimeOffset CreatedAt);

public enum ExtensionStatus
{
    Requested,
    Granted,
    Refused,
}

public sealed record ExtensionRequest(
    Guid Id, Guid RegistrationId, ExtensionStatus Status, int Days, string? Reason, string? DecisionNote, DateTimeOffset RequestedAt, DateTimeOffset? DecidedAt);
