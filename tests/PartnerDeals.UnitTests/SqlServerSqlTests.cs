using PartnerDeals.Api.Features.Opportunities;
using System.Reflection;
using Microsoft.SqlServer.TransactSql.ScriptDom;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.UnitTests;

/// <summary>
/// No SQL Server runs on the build machines, so every SQL Server migration and every query the
/// features send is at least parsed as T-SQL (SQL Server 2022 grammar) here.
/// </summary>
public sealed class SqlServerSqlTests
{
    private static readonly Assembly Api = typeof(Database).Assembly;

    public static IEnumerable<TestCaseData> Migrations() =>
        Api.GetManifestResourceNames()
            .Where(n => n.Contains(".Migrations.SqlServer.", StringComparison.Ordinal))
            .Order()
            .Select(n => new TestCaseData(n).SetName($"Migration_{n.Split('.')[^2]}_ParsesAsTSql"));

    /// <summary>
    /// Every <c>const string</c> field named <c>…Sql</c> in the API assembly, as sent (a query ending in
    /// ORDER BY is also checked with the SQL Server page clause appended), and every static <c>…Sql(SqlDialect)</c>
    /// method's query for SQL Server.
    /// </summary>
    public static IEnumerable<TestCaseData> Queries()
    {
        foreach (var type in Api.GetTypes())
        {
            foreach (var field in type.GetFields(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                // A constant, or a statement made once from a column list (static readonly).
                if (!(field.IsLiteral || field.IsInitOnly) || field.FieldType != typeof(string) || !field.Name.EndsWith("Sql", StringComparison.Ordinal)) continue;
                var sql = (string)(field.IsLiteral ? field.GetRawConstantValue() : field.GetValue(null))!;
                var name = $"{type.Name}.{field.Name}";
                yield return new TestCaseData(sql).SetName($"Query_{name}_ParsesAsTSql");
                if (sql.TrimEnd().EndsWith("ORDER BY id", StringComparison.OrdinalIgnoreCase))
                {
                    yield return new TestCaseData(SqlDialect.SqlServer.Page(sql)).SetName($"Query_{name}_Paged_ParsesAsTSql");
                }
            }
            // Queries with dialect expressions (date arithmetic) are built by a static method taking the dialect,
            // and perhaps a flag choosing between two shapes: each shape is checked.
            foreach (var method in type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (!method.Name.EndsWith("Sql", StringComparison.Ordinal) || method.ReturnType != typeof(string)) continue;
                var parameters = method.GetParameters().Select(p => p.ParameterType).ToArray();
                if (parameters.SequenceEqual([typeof(SqlDialect)]))
                {
                    yield return new TestCaseData((string)method.Invoke(null, [SqlDialect.SqlServer])!).SetName($"Query_{type.Name}.{method.Name}_ParsesAsTSql");
                }
                else if (parameters.SequenceEqual([typeof(SqlDialect), typeof(bool)]))
                {
                    foreach (var flag in new[] { false, true })
                    {
                        yield return new TestCaseData((string)method.Invoke(null, [SqlDialect.SqlServer, flag])!)
                            .SetName($"Query_{type.Name}.{method.Name}({flag})_ParsesAsTSql");
                    }
                }
            }
        }
        // The opportunity list's WHERE holds the filters given: its emptiest and fullest shapes.
        foreach (var all in new[] { false, true })
        {
            yield return new TestCaseData(SqlDialect.SqlServer.Page(OpportunityStore.ListSqlFor(all, all, all, all, all)))
                .SetName($"Query_OpportunityStore.ListSqlFor({all})_Paged_ParsesAsTSql");
        }
    }

    [TestCaseSource(nameof(Migrations))]
    public void Migration(string resource)
    {
        using var stream = Api.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        ParseErrors(reader.ReadToEnd()).ShouldBeEmpty();
    }

    [TestCaseSource(nameof(Queries))]
    public void Query(string sql) => ParseErrors(sql).ShouldBeEmpty();

    // The discovered set, against the committed list: a query the discovery stops finding (renamed to not end in Sql,
    // made non-constant) would otherwise go unparsed without a failure.
    [Test]
    public void QueryDiscovery_FindsEveryFeatureQuery()
    {
        var found = Queries().Select(q => q.TestName!).Order(StringComparer.Ordinal).ToList();
        var listed = File.ReadAllLines(Path.Combine(TestContext.CurrentContext.TestDirectory, "SqlServerQueries.txt"))
            .Where(l => l.Length > 0).Order(StringComparer.Ordinal).ToList();
        found.Except(listed).ShouldBeEmpty("queries not in SqlServerQueries.txt: add them");
        listed.Except(found).ShouldBeEmpty("queries in SqlServerQueries.txt the discovery no longer finds");
    }

    [Test]
    public void Parser_RejectsSqliteOnlySyntax() =>
        ParseErrors("SELECT id FROM partners ORDER BY id LIMIT @Limit").ShouldNotBeEmpty();

    private static string[] ParseErrors(string sql)
    {
        // Dapper expands "IN @Ids" into "IN (@Ids1, @Ids2, …)" before sending; parse what is sent.
        sql = System.Text.RegularExpressions.Regex.Replace(sql, @"\bIN\s+@(\w+)", "IN (@$1_1, @$1_2)");
        var parser = new TSql160Parser(initialQuotedIdentifiers: true);
        parser.Parse(new StringReader(sql), out var errors);
        return errors.Select(e => $"line {e.Line}: {e.Message}").ToArray();
    }
}
