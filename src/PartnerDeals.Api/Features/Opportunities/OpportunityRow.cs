using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Opportunities;

/// <summary>
/// One row of <c>opportunities</c>, as Dapper writes it (its properties are the statements' parameters)
/// and reads it back; the planner reads only the columns it needs into it.
/// </summary>
internal sealed record OpportunityRow
{
    public long Seq { get; init; }
    public Guid Id { get; init; }
    public string Source { get; init; } = "";
    public string ExternalId { get; init; } = "";
    public string AccountName { get; init; } = "";
    public string? AccountDomain { get; init; }
    public string? CompanyDomain { get; init; }
    public string? Country { get; init; }
    public string? Owner { get; init; }
    public string? Stage { get; init; }
    public string Status { get; init; } = "";
    public decimal? Amount { get; init; }
    public string? Currency { get; init; }
    public DateOnly? CloseDate { get; init; }
    public DateOnly? OpenedDate { get; init; }
    public string NameKey { get; init; } = "";

    /// <summary>Written for the conflict check, never read back.</summary>
    public string NameAcronym { get; init; } = "";

    public string NameTokens { get; init; } = "";
    public string? AlternateNames { get; init; }
    public string? Products { get; init; }

    /// <summary>As read; for an update, the stored version it was planned from, at which alone it applies.</summary>
    public long Version { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }

    public static OpportunityRow From(Guid id, PreparedWrite write, DateTimeOffset now, long version)
    {
        var (item, f) = (write.Item, write.Item.Fields);
        return new OpportunityRow
        {
            Id = id,
            Source = item.Source,
            ExternalId = item.ExternalId,
            AccountName = f.AccountName!.Trim(),
            AccountDomain = f.AccountDomain?.Trim(),
            CompanyDomain = write.CompanyDomain,
            Country = f.Country,
            Owner = f.Owner,
            Stage = f.Stage,
            Status = Json.Name(f.Status!.Value),
            Amount = f.Amount,
            Currency = f.Currency,
            CloseDate = f.CloseDate,
            OpenedDate = f.OpenedDate,
            NameKey = write.NameKey,
            NameAcronym = write.NameAcronym,
            NameTokens = write.NameTokens,
            AlternateNames = write.AlternateNames,
            Products = ProductLines.StoredProducts.Write(f.Products),
            Version = version,
            CreatedAt = now,
            UpdatedAt = now,
        };
    }

    public Opportunity ToOpportunity() => new()
    {
        Id = Id,
        Source = Source,
        ExternalId = ExternalId,
        AccountName = AccountName,
        AccountDomain = AccountDomain,
        AlternateNames = Features.ConflictChecks.AlternateNames.Read(AlternateNames),
        Products = ProductLines.StoredProducts.Read(Products),
        CompanyDomain = CompanyDomain,
        Country = Country,
        Owner = Owner,
        Stage = Stage,
        Status = Json.Parse<OpportunityStatus>(Status),
        Amount = Amount,
        Currency = Currency,
        CloseDate = CloseDate,
        OpenedDate = OpenedDate,
        NameKey = NameKey,
        CreatedAt = CreatedAt,
        UpdatedAt = UpdatedAt,
    };
}
