using Dapper;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Partners;

/// <summary>The <c>partners</c> table.</summary>
public sealed class PartnerStore(Database database)
{
    private const string Columns = """
        id, name, type, tier, status, contact_email, fee_model, fee_percent, fee_amount, fee_currency,
        fee_trigger, payment_net_days, protection_days, exclusive, check_quota_per_minute, check_quota_per_day,
        salesforce_account_id, hubspot_company_id, dynamics_account_id, version, created_at, updated_at
        """;

    private const string InsertSql = """
        INSERT INTO partners (id, name, name_key, type, tier, status, contact_email, fee_model, fee_percent, fee_amount,
            fee_currency, fee_trigger, payment_net_days, protection_days, exclusive, check_quota_per_minute, check_quota_per_day,
            salesforce_account_id, hubspot_company_id, dynamics_account_id, version, created_at, updated_at)
        VALUES (@Id, @Name, @NameKey, @Type, @Tier, @Status, @ContactEmail, @FeeModel, @FeePercent, @FeeAmount,
            @FeeCurrency, @FeeTrigger, @PaymentNetDays, @ProtectionDays, @Exclusive, @CheckQuotaPerMinute, @CheckQuotaPerDay,
            @SalesforceAccountId, @HubspotCompanyId, @DynamicsAccountId, @Version, @CreatedAt, @UpdatedAt)
        """;

    private const string GetSql = "SELECT " + Columns + " FROM partners WHERE id = @Id";

    private const string ListSql = "SELECT " + Columns + """

        FROM partners
        WHERE (@Type IS NULL OR type = @Type)
          AND (@Tier IS NULL OR tier = @Tier)
          AND (@Status IS NULL OR status = @Status)
          AND (@After IS NULL OR id > @After)
        ORDER BY id
        """;

    // Matches on the version read: of two concurrent updates exactly one changes the row.
    private const string UpdateSql = """
        UPDATE partners
        SET name = @Name, name_key = @NameKey, type = @Type, tier = @Tier, status = @Status, contact_email = @ContactEmail,
            fee_model = @FeeModel, fee_percent = @FeePercent, fee_amount = @FeeAmount, fee_currency = @FeeCurrency,
            fee_trigger = @FeeTrigger, payment_net_days = @PaymentNetDays, protection_days = @ProtectionDays,
            exclusive = @Exclusive, check_quota_per_minute = @CheckQuotaPerMinute, check_quota_per_day = @CheckQuotaPerDay,
            salesforce_account_id = @SalesforceAccountId, hubspot_company_id = @HubspotCompanyId, dynamics_account_id = @DynamicsAccountId,
            version = @Version, updated_at = @UpdatedAt
        WHERE id = @Id AND version = @ExpectedVersion
        """;

    /// <summary>Inserts a partner; throws a unique violation (see <see cref="SqlDialect.IsUniqueViolation"/>) when the name is taken.</summary>
    public Task InsertAsync(DbSession session, Partner partner, CancellationToken ct) =>
        session.ExecuteAsync(InsertSql, PartnerRow.From(partner), ct);

    public async Task<Partner?> GetAsync(Guid id, CancellationToken ct)
    {
        return await database.ReadAsync(session => GetAsync(session, id, ct), ct);
    }

    public async Task<Partner?> GetAsync(DbSession session, Guid id, CancellationToken ct)
    {
        var row = await session.QuerySingleOrDefaultAsync<PartnerRow>(GetSql, new { Id = id }, ct);
        return row?.ToPartner();
    }

    public async Task<Page<Partner>> ListAsync(PartnerType? type, string? tier, PartnerStatus? status, int pageSize, Guid? after, CancellationToken ct)
    {
        var rows = (await database.ReadAsync(read => read.QueryAsync<PartnerRow>(database.Dialect.Page(ListSql), new
        {
            Type = type is { } t ? Json.Name(t) : null,
            Tier = tier,
            Status = status is { } s ? Json.Name(s) : null,
            After = after,
            Limit = pageSize + 1,
        }, ct), ct)).AsList();
        return Paging.ToPage(rows, pageSize, r => r.Id, r => r.ToPartner());
    }

    /// <summary>Writes <paramref name="changed"/> if the stored row is still at <paramref name="expectedVersion"/>.</summary>
    public async Task<bool> UpdateAsync(DbSession session, Partner changed, int expectedVersion, CancellationToken ct)
    {
        var parameters = new DynamicParameters(PartnerRow.From(changed));
        parameters.Add("ExpectedVersion", expectedVersion);
        return await session.ExecuteAsync(UpdateSql, parameters, ct) == 1;
    }

    /// <summary>Names that differ only in case or spacing are the same name.</summary>
    public static string NameKey(string name) =>
        string.Join(' ', name.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant();

    /// <summary>One row of <c>partners</c>, as Dapper writes it (its properties are the statements' parameters) and reads it back.</summary>
    private sealed record PartnerRow
    {
        public Guid Id { get; init; }
        public string Name { get; init; } = "";

        /// <summary>Written for the unique index, never read back.</summary>
        public string NameKey { get; init; } = "";

        public string Type { get; init; } = "";
        public string Tier { get; init; } = "";
        public string Status { get; init; } = "";
        public string ContactEmail { get; init; } = "";
        public string FeeModel { get; init; } = "";
        public decimal? FeePercent { get; init; }
        public decimal? FeeAmount { get; init; }
        public string? FeeCurrency { get; init; }
        public string FeeTrigger { get; init; } = "";
        public int PaymentNetDays { get; init; }
        public int ProtectionDays { get; init; }
        public bool Exclusive { get; init; }
        public int? CheckQuotaPerMinute { get; init; }
        public int? CheckQuotaPerDay { get; init; }
        public string? SalesforceAccountId { get; init; }
        public string? HubspotCompanyId { get; init; }
        public string? DynamicsAccountId { get; init; }
        public int Version { get; init; }
        public DateTimeOffset CreatedAt { get; init; }
        public DateTimeOffset UpdatedAt { get; init; }

        public static PartnerRow From(Partner p) => new()
        {
            Id = p.Id,
            Name = p.Name,
            NameKey = PartnerStore.NameKey(p.Name),
            Type = Json.Name(p.Type),
            Tier = p.Tier,
            Status = Json.Name(p.Status),
            ContactEmail = p.ContactEmail,
            FeeModel = Json.Name(p.Terms.FeeModel),
            FeePercent = p.Terms.FeePercent,
            FeeAmount = p.Terms.FeeAmount,
            FeeCurrency = p.Terms.FeeCurrency,
            FeeTrigger = Json.Name(p.Terms.FeeTrigger),
            PaymentNetDays = p.Terms.PaymentNetDays,
            ProtectionDays = p.Terms.ProtectionDays,
            Exclusive = p.Terms.Exclusive,
            CheckQuotaPerMinute = p.CheckQuota?.PerMinute,
            CheckQuotaPerDay = p.CheckQuota?.PerDay,
            SalesforceAccountId = p.CrmAccounts.Salesforce,
            HubspotCompanyId = p.CrmAccounts.HubSpot,
            DynamicsAccountId = p.CrmAccounts.Dynamics,
            Version = p.Version,
            CreatedAt = p.CreatedAt,
            UpdatedAt = p.UpdatedAt,
        };

        public Partner ToPartner() => new()
        {
            Id = Id,
            Name = Name,
            Type = Json.Parse<PartnerType>(Type),
            Tier = Tier,
            Status = Json.Parse<PartnerStatus>(Status),
            ContactEmail = ContactEmail,
            Terms = new PartnerTerms
            {
                FeeModel = Json.Parse<FeeModel>(FeeModel),
                FeePercent = FeePercent,
                FeeAmount = FeeAmount,
                FeeCurrency = FeeCurrency,
                FeeTrigger = Json.Parse<FeeTrigger>(FeeTrigger),
                PaymentNetDays = PaymentNetDays,
                ProtectionDays = ProtectionDays,
                Exclusive = Exclusive,
            },
            CheckQuota = CheckQuotaPerMinute is { } perMinute && CheckQuotaPerDay is { } perDay ? new CheckQuota(perMinute, perDay) : null,
            CrmAccounts = new CrmAccounts { Salesforce = SalesforceAccountId, HubSpot = HubspotCompanyId, Dynamics = DynamicsAccountId },
            Version = Version,
            CreatedAt = CreatedAt,
            UpdatedAt = UpdatedAt,
        };
    }
}
