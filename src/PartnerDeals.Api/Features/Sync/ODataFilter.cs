using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace PartnerDeals.Api.Features.Sync;

/// <summary>
/// The configured Dataverse filter (<c>Crm:Dynamics:Pipeline:Filter</c>), applied here: change tracking refuses
/// <c>$filter</c>, so the pull reads every change and keeps the rows that pass. It reads the part of OData's <c>$filter</c>
/// a pipeline filter needs: comparisons of a column with a literal (<c>eq ne gt ge lt le</c>; numbers, <c>'text'</c>,
/// <c>true</c>, <c>false</c>, <c>null</c>, GUIDs), joined by <c>and</c>, <c>or</c>, <c>not</c> and parentheses. Text
/// compares without case, as Dataverse does. Anything else stops start-up with the reason.
/// </summary>
public sealed partial class ODataFilter
{
    private readonly Func<JsonObject, bool> _test;

    private ODataFilter(Func<JsonObject, bool> test, IReadOnlyList<string> columns) => (_test, Columns) = (test, columns);

    /// <summary>The columns the filter reads: the pull selects them.</summary>
    public IReadOnlyList<string> Columns { get; }

    public bool Passes(JsonObject row) => _test(row);

    /// <summary>The filter, or null and why it cannot be read.</summary>
    public static ODataFilter? Parse(string filter, out string? error)
    {
        if (filter.Count(c => c == '\'') % 2 != 0)
        {
            error = "a quoted text is not closed";
            return null;
        }
        var tokens = Token().Matches(filter).Select(m => m.Value).ToList();
        var columns = new List<string>();
        var at = 0;
        try
        {
            var test = Or(tokens, ref at, columns);
            if (at != tokens.Count) throw new FormatException($"unexpected '{tokens[at]}'");
            error = null;
            return new ODataFilter(test, columns.Distinct().ToList());
        }
        catch (FormatException e)
        {
            error = e.Message;
            return null;
        }
    }

    private static Func<JsonObject, bool> Or(List<string> tokens, ref int at, List<string> columns)
    {
        var left = And(tokens, ref at, columns);
        while (at < tokens.Count && tokens[at].Equals("or", StringComparison.OrdinalIgnoreCase))
        {
            at++;
            var (a, b) = (left, And(tokens, ref at, columns));
            left = row => a(row) || b(row);
        }
        return left;
    }

    private static Func<JsonObject, bool> And(List<string> tokens, ref int at, List<string> columns)
    {
        var left = Unary(tokens, ref at, columns);
        while (at < tokens.Count && tokens[at].Equals("and", StringComparison.OrdinalIgnoreCase))
        {
            at++;
            var (a, b) = (left, Unary(tokens, ref at, columns));
            left = row => a(row) && b(row);
        }
        return left;
    }

    private static Func<JsonObject, bool> Unary(List<string> tokens, ref int at, List<string> columns)
    {
        if (at >= tokens.Count) throw new FormatException("it ends too early");
        if (tokens[at].Equals("not", StringComparison.OrdinalIgnoreCase))
        {
            at++;
            var inner = Unary(tokens, ref at, columns);
            return row => !inner(row);
        }
        if (tokens[at] == "(")
        {
            at++;
            var inner = Or(tokens, ref at, columns);
            if (at >= tokens.Count || tokens[at] != ")") throw new FormatException("a parenthesis is not closed");
            at++;
            return inner;
        }
        if (at + 2 >= tokens.Count) throw new FormatException($"'{tokens[at]}' is not a comparison");
        var (column, op, literal) = (tokens[at], tokens[at + 1].ToLowerInvariant(), Literal(tokens[at + 2]));
        if (!Regex.IsMatch(column, "^[A-Za-z_][A-Za-z0-9_]*$")) throw new FormatException($"'{column}' is not a column");
        if (op is not ("eq" or "ne" or "gt" or "ge" or "lt" or "le")) throw new FormatException($"'{op}' is not a comparison operator");
        at += 3;
        columns.Add(column);
        return row => Compare(row[column], op, literal);
    }

    private static object? Literal(string token)
    {
        if (token.Equals("null", StringComparison.OrdinalIgnoreCase)) return null;
        if (token.Equals("true", StringComparison.OrdinalIgnoreCase)) return true;
        if (token.Equals("false", StringComparison.OrdinalIgnoreCase)) return false;
        if (token.StartsWith('\'')) return token[1..^1].Replace("''", "'", StringComparison.Ordinal);
        if (decimal.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)) return number;
        if (Guid.TryParse(token, out var guid)) return guid.ToString("D");
        throw new FormatException($"'{token}' is not a literal");
    }

    private static bool Compare(JsonNode? value, string op, object? literal)
    {
        int? order = (value, literal) switch
        {
            (null, null) => 0,
            (null, _) or (_, null) => null,
            (JsonValue v, decimal n) when v.TryGetValue<decimal>(out var d) => d.CompareTo(n),
            (JsonValue v, bool b) when v.TryGetValue<bool>(out var x) => x.CompareTo(b),
            (JsonValue v, string s) => string.Compare(v.ToString(), s, StringComparison.OrdinalIgnoreCase),
            _ => null,
        };
        return op switch
        {
            "eq" => order == 0,
            "ne" => order != 0,
            "gt" => order > 0,
            "ge" => order >= 0,
            "lt" => order < 0,
            _ => order <= 0,
        };
    }

    [GeneratedRegex(@"\(|\)|'(?:[^']|'')*'|[^\s()']+")]
    private static partial Regex Token();
}
