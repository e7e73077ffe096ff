using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Matching;

namespace PartnerDeals.Api.Features.ProductLines;

/// <summary>
/// Bound from <c>Products</c>: the vendor's product lines, each the product codes or names that belong to it. A
/// product is matched to them as company names are matched (<see cref="ProductNames"/>): folded, with its edition
/// or year after it, or misspelt. A product that matches no line is <see cref="Unlisted"/>: it may be any line, so
/// under the product-line scope it collides as a deal naming no product does — a new spelling is never a free line.
/// </summary>
public sealed class ProductCatalogue
{
    public const string Section = "Products";

    public const int MaxProducts = 50;

    /// <summary>The line of a product that matches none of the catalogue's.</summary>
    public const string Unlisted = "unlisted";

    /// <summary><c>Products:Lines:&lt;line&gt;:0=…</c>: the line's products.</summary>
    public Dictionary<string, List<string>> Lines { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The registration policy's <c>Registrations:Policy:ConflictScope</c>, set at start-up (the policy owns and validates
    /// the setting; not bound from this section): whether conflicts are scoped by these lines at all.
    /// </summary>
    public string ConflictScope { get; internal set; } = ProductScope.Account;

    public bool ScopesConflicts => ConflictScope == ProductScope.ProductLine;

    private (ProductNames.Listing Listing, string[] LineOf)? _listing;

    // Partners choose product names, so the cache of names already matched is bounded: emptied when full.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _matched = new(StringComparer.Ordinal);
    private const int MaxMatched = 10_000;

    /// <summary>Every problem with the catalogue, for the start-up error; empty when it is good.</summary>
    public IEnumerable<string> Problems()
    {
        foreach (var (line, products) in Lines)
        {
            if (line.Trim().Length is 0 or > 64) yield return $"Products:Lines: a line's name must be 1-64 characters ('{line}').";
            if (line.Trim().Equals(Unlisted, StringComparison.OrdinalIgnoreCase)) yield return $"Products:Lines: '{Unlisted}' names the products of no line.";
            if (products.Count == 0 || products.Any(p => p.Trim().Length is 0 or > 200 || ProductNames.Words(p).Count == 0))
                yield return $"Products:Lines:{line} must list 1 or more products of 1-200 characters, with letters or digits.";
        }
        foreach (var twice in Lines.SelectMany(l => l.Value.Select(p => (Product: ProductNames.Key(p), Line: l.Key))).GroupBy(p => p.Product)
                     .Where(g => g.Select(p => p.Line).Distinct(StringComparer.OrdinalIgnoreCase).Count() > 1))
        {
            yield return $"Products:Lines: product '{twice.Key}' is listed in more than one line ({string.Join(", ", twice.Select(p => p.Line))}).";
        }
    }

    /// <summary>The line a product belongs to, or <see cref="Unlisted"/>.</summary>
    public string LineOf(string product)
    {
        if (_matched.TryGetValue(product, out var known)) return known;
        _listing ??= Listing();
        var line = _listing.Value.Listing.Find(product) is { } at ? _listing.Value.LineOf[at] : Unlisted;
        if (_matched.Count >= MaxMatched) _matched.Clear();
        _matched[product] = line;
        return line;
    }

    private (ProductNames.Listing, string[]) Listing()
    {
        var listed = Lines.SelectMany(l => l.Value.Select(p => (Product: p, Line: l.Key.Trim()))).ToList();
        return (new ProductNames.Listing(listed.Select(p => p.Product)), listed.Select(p => p.Line).ToArray());
    }

    /// <summary>The distinct lines of a deal's products, in order (<see cref="Unlisted"/> among them); empty when it names none.</summary>
    public IReadOnlyList<string> LinesOf(IEnumerable<string>? products) =>
        (products ?? []).Where(p => !string.IsNullOrWhiteSpace(p)).Select(LineOf).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToList();
}

/// <summary>One line of the catalogue.</summary>
/// <param name="Line">The line's name.</param>
/// <param name="Products">The products that belong to it, as configured.</param>
public sealed record ProductLine(string Line, IReadOnlyList<string> Products);

/// <summary>The catalogue, and how conflicts are scoped by it.</summary>
/// <param name="ConflictScope"><c>account</c>: any registration of the account conflicts; <c>product_line</c>: only those sharing a line.</param>
/// <param name="Lines">The configured lines; a product matching none of them is <c>unlisted</c>, which may be any line.</param>
public sealed record ProductLinesAnswer(string ConflictScope, IReadOnlyList<ProductLine> Lines);

public static class ProductLinesApi
{
    public static void MapProductLines(this IEndpointRouteBuilder v1) =>
        v1.MapGet("/product-lines", (Microsoft.Extensions.Options.IOptions<ProductCatalogue> catalogue) =>
                TypedResults.Ok(new ProductLinesAnswer(catalogue.Value.ConflictScope,
                    catalogue.Value.Lines.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => new ProductLine(l.Key, l.Value)).ToList())))
            .WithTags("Product lines")
            .WithName("ListProductLines")
            .WithSummary("The product lines conflicts are scoped by")
            .WithDescription("Any key. The lines of `Products:Lines` and their products, and the "
                + "policy's conflict scope: with `product_line`, two deals on one account collide only when they share a line, or one names no product or "
                + "a product of no line. Products are matched to the lines as company names are: folded, with an edition or year after them, or misspelt.")
            .RequireAuthorization(Policies.AnyKey);
}

/// <summary>
/// The product-line scope of a conflict: two deals on one account collide only when they share a product line,
/// or when either names no product (unknown means a possible overlap). A match on the company whose lines are
/// disjoint stays in the explanation but no longer blocks.
/// </summary>
public static class ProductScope
{
    /// <summary>The conflict scopes: any deal on the account, or only those sharing a line.</summary>
    public const string Account = "account";
    public const string ProductLine = "product_line";

    public const string Overlap = "products_overlap";
    public const string Disjoint = "products_disjoint";
    public const string Unknown = "products_unknown";

    public static PartnerDeals.Matching.MatchResult Apply(PartnerDeals.Matching.MatchResult match, IReadOnlyList<string> ours, IReadOnlyList<string> theirs)
    {
        if (match.Verdict == PartnerDeals.Matching.Verdict.Clear) return match;
        var sides = $"this deal: {Describe(ours)}; theirs: {Describe(theirs)}";
        if (ours.Count == 0 || theirs.Count == 0) return With(match, new(Unknown, 1, $"a deal names no product, so they may overlap ({sides})"));
        if (ours.Contains(ProductCatalogue.Unlisted) || theirs.Contains(ProductCatalogue.Unlisted))
        {
            return With(match, new(Unknown, 1, $"a deal names a product of no line, which may be any ({sides})"));
        }
        var shared = ours.Intersect(theirs, StringComparer.OrdinalIgnoreCase).ToList();
        return shared.Count > 0
            ? With(match, new(Overlap, 1, $"shared lines: {string.Join(", ", shared)} ({sides})"))
            : With(match, new(Disjoint, 0, $"no line in common ({sides})")) with { Verdict = PartnerDeals.Matching.Verdict.Clear };
    }

    private static PartnerDeals.Matching.MatchResult With(PartnerDeals.Matching.MatchResult match, PartnerDeals.Matching.MatchSignal signal) =>
        match with { Signals = [.. match.Signals, signal] };

    private static string Describe(IReadOnlyList<string> lines) => lines.Count == 0 ? "none" : string.Join(", ", lines);
}

/// <summary>A deal's products as a column stores them: a JSON array of the trimmed, distinct names, null for none.</summary>
public static class StoredProducts
{
    public static string? Write(IReadOnlyList<string>? products) =>
        products is { Count: > 0 } ? System.Text.Json.JsonSerializer.Serialize(products.Select(p => p.Trim()).Distinct().ToList()) : null;

    public static IReadOnlyList<string> Read(string? stored) =>
        string.IsNullOrEmpty(stored) ? [] : System.Text.Json.JsonSerializer.Deserialize<List<string>>(stored) ?? [];
}
