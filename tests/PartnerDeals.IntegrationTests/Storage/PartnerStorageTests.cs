using PartnerDeals.Api.Features.ApiKeys;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Features.Partners;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.IntegrationTests.Storage;

/// <summary>Partners and their API keys as stored: every field, uniqueness, optimistic versions, pages, revocation. See <see cref="StorageTest"/>.</summary>
[TestFixture(DatabaseProvider.Sqlite)]
[TestFixture(DatabaseProvider.SqlServer)]
public sealed class PartnerStorageTests(DatabaseProvider provider) : StorageTest(provider)
{
    [Test]
    public async Task Partner_InsertedAndRead_RoundTripsEveryField()
    {
        var partner = NewPartner("Round Trip GmbH") with
        {
            Terms = new PartnerTerms
            {
                FeeModel = FeeModel.FixedFee, FeeAmount = 1234.5678m, FeeCurrency = "EUR", FeeTrigger = FeeTrigger.QualifiedIntroduction,
                PaymentNetDays = 45, ProtectionDays = 180, Exclusive = true,
            },
        };
        await InTransaction(tx => Partners.InsertAsync(tx, partner, CancellationToken.None));

        var read = await Partners.GetAsync(partner.Id, CancellationToken.None);

        read.ShouldNotBeNull();
        read.ShouldBeEquivalentTo(partner);
    }

    [Test]
    public async Task Partner_SameNameKey_IsAUniqueViolation()
    {
        await InTransaction(tx => Partners.InsertAsync(tx, NewPartner("Twin Ltd"), CancellationToken.None));
        var twin = await Should.ThrowAsync<Exception>(() =>
            InTransaction(tx => Partners.InsertAsync(tx, NewPartner("  twin   LTD "), CancellationToken.None)));
        SqlDialect.IsUniqueViolation(twin).ShouldBeTrue(twin.ToString());
    }

    [Test]
    public async Task Partner_UpdateAtReadVersion_WinsOnceThenLoses()
    {
        var partner = NewPartner("Versioned Inc");
        await InTransaction(tx => Partners.InsertAsync(tx, partner, CancellationToken.None));
        var changed = partner with { Tier = "gold", Version = 2 };

        var first = false;
        var second = true;
        await InTransaction(async tx => first = await Partners.UpdateAsync(tx, changed, expectedVersion: 1, CancellationToken.None));
        await InTransaction(async tx => second = await Partners.UpdateAsync(tx, changed with { Tier = "registered" }, expectedVersion: 1, CancellationToken.None));

        first.ShouldBeTrue();
        second.ShouldBeFalse();
        (await Partners.GetAsync(partner.Id, CancellationToken.None))!.Tier.ShouldBe("gold");
    }

    [Test]
    public async Task Partners_ListedByPages_AreFilteredAndComplete()
    {
        var tier = "tier-" + Guid.NewGuid().ToString("N")[..6];
        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            Clock.Advance(TimeSpan.FromMilliseconds(1));
            var partner = NewPartner($"Paged {tier} {i}") with { Tier = tier };
            ids.Add(partner.Id);
            await InTransaction(tx => Partners.InsertAsync(tx, partner, CancellationToken.None));
        }

        var seen = new List<Guid>();
        Guid? after = null;
        do
        {
            var page = await Partners.ListAsync(PartnerType.Reseller, tier, PartnerStatus.Active, 2, after, CancellationToken.None);
            seen.AddRange(page.Items.Select(p => p.Id));
            after = page.NextCursor is null ? null : page.Items[^1].Id;
        } while (after is not null);

        seen.ShouldBe(ids);
    }

    [Test]
    public async Task ApiKey_FoundByItsSecretOnlyUntilRevoked()
    {
        var partner = NewPartner("Keyed Ltd");
        await InTransaction(tx => Partners.InsertAsync(tx, partner, CancellationToken.None));
        IssuedApiKey issued = null!;
        await InTransaction(async tx => issued = await Keys.IssueAsync(tx, "portal", ApiKeyRole.Partner, partner.Id, Actor.System, CancellationToken.None));

        var found = await Keys.FindActiveAsync(issued.Secret, CancellationToken.None);
        found.ShouldNotBeNull();
        found.PartnerId.ShouldBe(partner.Id);
        found.Role.ShouldBe("partner");
        var otherLastDigit = issued.Secret[^1] == '0' ? "1" : "0"; // a different secret, one character off
        (await Keys.FindActiveAsync(issued.Secret[..^1] + otherLastDigit, CancellationToken.None)).ShouldBeNull();

        var revoked = 0;
        await InTransaction(async tx => revoked = await Keys.RevokeAllOfPartnerAsync(tx, partner.Id, CancellationToken.None));
        revoked.ShouldBe(1);
        (await Keys.FindActiveAsync(issued.Secret, CancellationToken.None)).ShouldBeNull();
    }
}
