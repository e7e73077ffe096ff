using System.Text.RegularExpressions;
using Dapper;
using PartnerDeals.Api.Features.ConflictChecks;
using PartnerDeals.Api.Features.Opportunities;
using PartnerDeals.Api.Features.Registrations;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.IntegrationTests.Storage;

/// <summary>
/// Blocking by index, never by scan: SQLite's plan for every candidate query, on the migrated schema.
/// A token query starts from the token index; left to choose, SQLite once walked every active
/// registration by status and probed the token for each, costing every registration more as the table grew.
/// </summary>
public sealed partial class CandidatePlanTests
{
    public static IEnumerable<TestCaseData> Queries()
    {
        foreach (var (table, sql) in new[] { ("opportunities", OpportunityCandidates.Sql), ("registrations", RegistrationCandidates.Sql) })
        {
            yield return new TestCaseData(sql.ByDomain, false).SetName($"CandidatesByDomain_{table}_SeeksAnIndex");
            yield return new TestCaseData(sql.ByKey, false).SetName($"CandidatesByKey_{table}_SeeksAnIndex");
            yield return new TestCaseData(sql.ByAcronym, false).SetName($"CandidatesByAcronym_{table}_SeeksAnIndex");
            yield return new TestCaseData(sql.TokenRows, true).SetName($"TokenRows_{table}_SeekTheTokenIndex");
            yield return new TestCaseData(sql.ByToken, true).SetName($"CandidatesByToken_{table}_StartFromTheTokenIndex");
        }
    }

    [TestCaseSource(nameof(Queries))]
    public async Task Plan(string sql, bool fromTokenIndex)
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using var connection = await db.Database.OpenAsync(CancellationToken.None);
        var paged = SqlDialect.Sqlite.Page(sql);
        var parameters = new DynamicParameters();
        foreach (var name in Parameter().Matches(paged).Select(m => m.Groups[1].Value).Distinct()) parameters.Add(name, null);

        var plan = (await connection.QueryAsync("EXPLAIN QUERY PLAN " + paged, parameters)).Select(step => (string)step.detail).ToList();

        plan.ShouldNotBeEmpty();
        plan.ShouldAllBe(step => !step.StartsWith("SCAN"), string.Join(" / ", plan));
        plan[0].ShouldMatch(fromTokenIndex ? @"^SEARCH (t|opportunity_tokens|registration_tokens) USING PRIMARY KEY \(token=\?" : "^SEARCH ",
            string.Join(" / ", plan));
    }

    [Test]
    public async Task Misspellings_AreSoughtBySignatureInTheMisspellingIndex()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using var connection = await db.Database.OpenAsync(CancellationToken.None);

        var plan = (await connection.QueryAsync("EXPLAIN QUERY PLAN " + MisspellingIndex.FindSql(SqlDialect.Sqlite),
            new { Signatures = """["9<micr", "9>soft"]""" })).Select(step => (string)step.detail).ToList();

        plan.ShouldAllBe(step => !step.StartsWith("SCAN token_signatures"), string.Join(" / ", plan));
        plan.ShouldContain(step => step.StartsWith("SEARCH token_signatures USING PRIMARY KEY (signature=?)"), string.Join(" / ", plan));
    }

    [TestCase(RegistrationTeam.ActiveMembersSql, TestName = "ADealsActiveMembers_AreSoughtByItsRegistration")]
    [TestCase(RegistrationTeam.TeamsSql, TestName = "TheTeamsOfACrmBatch_AreSoughtByTheirRegistrations")]
    [TestCase(RegistrationTeam.MembersSql, TestName = "ADealsTeamList_IsSoughtByItsRegistration")]
    public async Task TeamQueries(string sql)
    {
        // Every change of a registration asks for its team (its webhooks go to the members): never a walk of every team.
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using var connection = await db.Database.OpenAsync(CancellationToken.None);

        var plan = (await connection.QueryAsync("EXPLAIN QUERY PLAN " + sql, new { RegistrationId = Guid.NewGuid(), Ids = new[] { "a", "b" } }))
            .Select(step => (string)step.detail).ToList();

        plan.ShouldContain(step => step.StartsWith("SEARCH m USING") || step.StartsWith("SEARCH registration_members USING"), string.Join(" / ", plan));
        plan.ShouldAllBe(step => !step.StartsWith("SCAN"), string.Join(" / ", plan));
    }

    [Test]
    public async Task ExistingRowsOfABatch_AreSoughtBySourceAndExternalId()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using var connection = await db.Database.OpenAsync(CancellationToken.None);

        var plan = (await connection.QueryAsync("EXPLAIN QUERY PLAN " + OpportunityStore.FindExistingSql(SqlDialect.Sqlite),
            new { Source = "salesforce", ExternalIds = """["006A", "006B"]""" })).Select(step => (string)step.detail).ToList();

        plan[0].ShouldStartWith("SEARCH opportunities USING INDEX ux_opportunities_source_external_id (source=? AND external_id=?)", Case.Sensitive,
            string.Join(" / ", plan));
    }

    [TestCase(false, false, false, true, false, "SEARCH opportunities USING INDEX ix_opportunities_company_domain (company_domain=?) / USE TEMP B-TREE FOR ORDER BY")]
    [TestCase(true, false, false, true, true, "SEARCH opportunities USING INDEX ix_opportunities_company_domain (company_domain=?) / USE TEMP B-TREE FOR ORDER BY")]
    [TestCase(false, false, false, false, true, "SEARCH opportunities USING INDEX ux_opportunities_id (id>?)")]
    [TestCase(true, false, false, false, true, "SEARCH opportunities USING INDEX ux_opportunities_id (id>?)")]
    [TestCase(true, true, true, false, true, "SEARCH opportunities USING INDEX ux_opportunities_id (id>?)")]
    [TestCase(true, false, false, false, false, "SCAN opportunities USING INDEX ux_opportunities_id")]
    public async Task OpportunityList_SeeksTheDomainIndexOrTheIdIndexFromItsCursor(bool source, bool status, bool country, bool domain, bool after, string expected)
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using var connection = await db.Database.OpenAsync(CancellationToken.None);

        var sql = SqlDialect.Sqlite.Page(OpportunityStore.ListSqlFor(source, status, country, domain, after));
        var plan = (await connection.QueryAsync("EXPLAIN QUERY PLAN " + sql, new
        {
            Source = "salesforce", Status = "open", Country = "DE", CompanyDomain = "example.com", After = Guid.Empty.ToString("D"), Limit = 51,
        })).Select(step => (string)step.detail).ToList();

        // A domain's few rows are sorted; never the source index, which would sort all of one source's rows for each page.
        string.Join(" / ", plan).ShouldBe(expected);
    }

    [GeneratedRegex("@([A-Za-z]+)")]
    private static partial Regex Parameter();
}
