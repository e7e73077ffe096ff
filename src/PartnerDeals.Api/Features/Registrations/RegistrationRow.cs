using System.Text.Json;
using PartnerDeals.Api.Features.Partners;
using PartnerDeals.Api.Infrastructure.Http;
using PartnerDeals.Matching;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>
/// One row of <c>registrations</c>, as Dapper writes it (its properties are the statements' parameters)
/// and reads it back. A new column is a property here, in <see cref="From"/> and <see cref="ToRegistration"/>, and in the SQL.
/// </summary>
internal sealed record RegistrationRow
{
    public Guid Id { get; init; }
    public long Seq { get; init; }
    public Guid PartnerId { get; init; }
    public Guid? RegisteredBy { get; init; }
    public string Status { get; init; } = "";
    public string Verdict { get; init; } = "";
    public string Reason { get; init; } = "";
    public string CompanyName { get; init; } = "";
    public string? CompanyWebsite { get; init; }

    /// <summary>Written for the conflict check, never read back.</summary>
    public string? CompanyDomain { get; init; }

    public string Country { get; init; } = "";
    public string? Industry { get; init; }
    public int? EmployeeCount { get; init; }
    public string ContactName { get; init; } = "";
    public string ContactEmail { get; init; } = "";
    public string? ContactTitle { get; init; }
    public string DealName { get; init; } = "";
    public string Products { get; init; } = "[]";
    public decimal EstimatedValue { get; init; }
    public string Currency { get; init; } = "";
    public DateOnly? ExpectedCloseDate { get; init; }
    public string? DealNotes { get; init; }
    public string RelationshipOwner { get; init; } = "";
    public string DemoOwner { get; init; } = "";
    public string ContractOwner { get; init; } = "";
    public bool CoSell { get; init; }

    /// <summary>The matching keys of the company name, written for the conflict check.</summary>
    public string NameKey { get; init; } = "";

    public string NameAcronym { get; init; } = "";
    public string NameTokens { get; init; } = "";
    public string? AlternateNames { get; init; }
    public bool IcpQualified { get; init; }
    public string? IcpFailedRule { get; init; }
    public string PolicyVersion { get; init; } = "";
    public string? RejectionReason { get; init; }
    public string? DecisionNote { get; init; }
    public bool DecisionNoteShared { get; init; }

    /// <summary>The approvals above the second-approval value, a JSON array; null when none.</summary>
    public string? Approvals { get; init; }
    public DateTimeOffset? ProtectionExpiresAt { get; init; }
    public int ExtensionsGranted { get; init; }
    public string? TermsTier { get; init; }
    public string? TermsFeeModel { get; init; }
    public decimal? TermsFeePercent { get; init; }
    public decimal? TermsFeeAmount { get; init; }
    public string? TermsFeeCurrency { get; init; }
    public string? TermsFeeTrigger { get; init; }
    public int? TermsPaymentNetDays { get; init; }
    public int? TermsProtectionDays { get; init; }
    public decimal? OutcomeAmount { get; init; }
    public string? OutcomeCurrency { get; init; }
    public DateTimeOffset? ClosedAt { get; init; }
    public string? LostReason { get; init; }
    public string? OutcomeProducts { get; init; }
    public DateTimeOffset SubmittedAt { get; init; }
    public DateTimeOffset? DecidedAt { get; init; }
    public DateTimeOffset? ApprovedAt { get; init; }

    /// <summary>The API key that submitted it; written once, never read back.</summary>
    public Guid? CreatedByKeyId { get; init; }

    public int Version { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public int PartnerVersion { get; init; }
    public DateTimeOffset? PartnerUpdatedAt { get; init; }

    /// <summary>Read only: the open conflict, from the conflicts table.</summary>
    public Guid? ConflictId { get; init; }

    public static RegistrationRow From(Registration r)
    {
        var name = Matching.CompanyName.Normalise(r.Customer.CompanyName);
        return new RegistrationRow
        {
            Id = r.Id,
            Seq = r.Seq,
            PartnerId = r.PartnerId,
            RegisteredBy = r.RegisteredBy,
            Status = Json.Name(r.Status),
            Verdict = Json.Name(r.Verdict),
            Reason = r.Reason,
            CompanyName = r.Customer.CompanyName,
            CompanyWebsite = r.Customer.Domain,
            CompanyDomain = Domains.CompanyDomain(r.Customer.Domain),
            Country = r.Customer.Country,
            Industry = r.Customer.Industry,
            EmployeeCount = r.Customer.EmployeeCount,
            ContactName = r.Contact.Name,
            ContactEmail = r.Contact.Email,
            ContactTitle = r.Contact.Title,
            DealName = r.Deal.Name,
            Products = JsonSerializer.Serialize(r.Deal.Products, Json.Options),
            EstimatedValue = r.Deal.EstimatedValue,
            Currency = r.Deal.Currency,
            ExpectedCloseDate = r.Deal.ExpectedCloseDate,
            DealNotes = r.Deal.Notes,
            RelationshipOwner = Json.Name(r.CoSell.RelationshipOwner),
            DemoOwner = Json.Name(r.CoSell.Demo),
            ContractOwner = Json.Name(r.CoSell.Contract),
            CoSell = r.CoSelling,
            NameKey = name.Key,
            NameAcronym = name.Acronym,
            NameTokens = string.Join(' ', name.Tokens),
            AlternateNames = ConflictChecks.AlternateNames.Write(r.Customer.AlternateNames),
            IcpQualified = r.Icp.Qualified,
            IcpFailedRule = r.Icp.FailedRule,
            PolicyVersion = r.PolicyVersion,
            RejectionReason = r.RejectionReason is { } reason ? Json.Name(reason) : null,
            DecisionNote = r.DecisionNote,
            DecisionNoteShared = r.DecisionNote is not null && r.DecisionNoteVisibleToPartner,
            Approvals = r.Approvals.Count == 0 ? null : JsonSerializer.Serialize(r.Approvals, Json.Options),
            ProtectionExpiresAt = r.ProtectionExpiresAt,
            ExtensionsGranted = r.ExtensionsGranted,
            TermsTier = r.Terms?.Tier,
            TermsFeeModel = r.Terms is { } model ? Json.Name(model.FeeModel) : null,
            TermsFeePercent = r.Terms?.FeePercent,
            TermsFeeAmount = r.Terms?.FeeAmount,
            TermsFeeCurrency = r.Terms?.FeeCurrency,
            TermsFeeTrigger = r.Terms is { } trigger ? Json.Name(trigger.FeeTrigger) : null,
            TermsPaymentNetDays = r.Terms?.PaymentNetDays,
            TermsProtectionDays = r.Terms?.ProtectionDays,
            OutcomeAmount = r.Outcome?.Amount,
            OutcomeCurrency = r.Outcome?.Currency,
            ClosedAt = r.Outcome?.ClosedAt,
            LostReason = r.Outcome?.LostReason,
            OutcomeProducts = r.Outcome?.Products is { Count: > 0 } sold ? JsonSerializer.Serialize(sold, Json.Options) : null,
            SubmittedAt = r.SubmittedAt,
            DecidedAt = r.DecidedAt,
            ApprovedAt = r.ApprovedAt,
            Version = r.Version,
            CreatedAt = r.CreatedAt,
            UpdatedAt = r.UpdatedAt,
            PartnerVersion = r.PartnerVersion,
            PartnerUpdatedAt = r.PartnerUpdatedAt,
            ConflictId = r.ConflictId,
        };
    }

    public Registration ToRegistration()
    {
        var status = Json.Parse<RegistrationStatus>(Status);
        return new Registration
        {
            Id = Id,
            Seq = Seq,
            PartnerId = PartnerId,
            RegisteredBy = RegisteredBy,
            Status = status,
            Verdict = Json.Parse<Verdict>(Verdict),
            Reason = Reason,
            Customer = new Customer(CompanyName, CompanyWebsite, Country, Industry, EmployeeCount)
            {
                AlternateNames = ConflictChecks.AlternateNames.Read(AlternateNames),
            },
            Contact = new Contact(ContactName, ContactEmail, ContactTitle),
            Deal = new Deal(DealName, JsonSerializer.Deserialize<string[]>(Products, Json.Options) ?? [], EstimatedValue, Currency,
                ExpectedCloseDate, DealNotes),
            CoSell = new CoSell(Json.Parse<CoSellParty>(RelationshipOwner), Json.Parse<CoSellParty>(DemoOwner), Json.Parse<CoSellParty>(ContractOwner)),
            CoSelling = CoSell,
            Icp = new IcpResult(IcpQualified, IcpFailedRule),
            PolicyVersion = PolicyVersion,
            RejectionReason = RejectionReason is null ? null : Json.Parse<RejectionReason>(RejectionReason),
            DecisionNote = DecisionNote,
            DecisionNoteVisibleToPartner = DecisionNoteShared,
            Approvals = Approvals is null ? [] : JsonSerializer.Deserialize<Approval[]>(Approvals, Json.Options) ?? [],
            ProtectionExpiresAt = ProtectionExpiresAt,
            ExtensionsGranted = ExtensionsGranted,
            Terms = TermsTier is null ? null : new TermsSnapshot(TermsTier, Json.Parse<FeeModel>(TermsFeeModel!), TermsFeePercent, TermsFeeAmount,
                TermsFeeCurrency, Json.Parse<FeeTrigger>(TermsFeeTrigger!), TermsPaymentNetDays ?? 0, TermsProtectionDays ?? 0),
            Outcome = status is RegistrationStatus.Won or RegistrationStatus.Lost && ClosedAt is { } closed
                ? new Outcome(status == RegistrationStatus.Won ? OutcomeResult.Won : OutcomeResult.Lost, OutcomeAmount, OutcomeCurrency, closed, LostReason)
                {
                    Products = OutcomeProducts is null ? [] : JsonSerializer.Deserialize<string[]>(OutcomeProducts, Json.Options) ?? [],
                }
                : null,
            ConflictId = ConflictId,
            SubmittedAt = SubmittedAt,
            DecidedAt = DecidedAt,
            ApprovedAt = ApprovedAt,
            CreatedAt = CreatedAt,
            UpdatedAt = UpdatedAt,
            Version = Version,
            PartnerVersion = PartnerVersion,
            PartnerUpdatedAt = PartnerUpdatedAt ?? UpdatedAt,
        };
    }
}
