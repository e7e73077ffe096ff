using System.Buffers.Text;
using System.Text;
using Microsoft.AspNetCore.Mvc;

namespace PartnerDeals.Api.Infrastructure.Http;

/// <summary>One page of a keyset-paginated list; pass <c>nextCursor</c> back as <c>cursor</c> for the next page.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

/// <summary>
/// The page a list endpoint is asked for (<c>?limit=…&amp;cursor=…</c>), bound with <c>[AsParameters]</c>. A struct, so it
/// can follow a list's optional filters as <c>PageRequest page = default</c>, last, as the document lists it.
/// </summary>
public readonly record struct PageRequest
{
    /// <summary>Page size, 1–200 (default 50).</summary>
    [FromQuery(Name = "limit")]
    public int? Limit { get; init; }

    /// <summary>The nextCursor of the previous page.</summary>
    [FromQuery(Name = "cursor")]
    public string? Cursor { get; init; }

    /// <summary>Validates <c>limit</c> and <c>cursor</c>; answers the error for a 400 when they are bad.</summary>
    public bool TryRead(out int pageSize, out Guid? after, out Dictionary<string, string[]> errors)
    {
        errors = [];
        pageSize = Limit ?? Paging.DefaultLimit;
        after = null;
        if (pageSize is < 1 or > Paging.MaxLimit)
        {
            errors["limit"] = [$"limit must be between 1 and {Paging.MaxLimit}."];
        }
        if (!string.IsNullOrEmpty(Cursor))
        {
            if (Paging.TryDecode(Cursor, out var id)) after = id;
            else errors["cursor"] = ["cursor is not one this API issued; start again without it."];
        }
        return errors.Count == 0;
    }
}

/// <summary>
/// Keyset pagination over UUIDv7 ids (creation order). The cursor is opaque to clients: it is the
/// last id of the page, encoded, so nobody builds one by hand and the encoding may change.
/// </summary>
public static class Paging
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;
    private const string Version = "v1:";

    /// <summary>
    /// Declares that query parameter <paramref name="parameter"/> takes the wire names of <typeparamref name="TEnum"/>: the
    /// OpenAPI document lists them, so Swagger UI offers a dropdown instead of a free-text box.
    /// </summary>
    public static RouteHandlerBuilder WithFilterValues<TEnum>(this RouteHandlerBuilder builder, string parameter) where TEnum : struct, Enum =>
        builder.WithMetadata(new FilterValues(parameter, Enum.GetValues<TEnum>().Select(v => Json.Name(v)).ToList()));

    /// <summary>Endpoint metadata read by the OpenAPI document: the values a query filter takes.</summary>
    public sealed record FilterValues(string Parameter, IReadOnlyList<string> Values);

    /// <summary>
    /// Reads an optional enum filter from the query string by its wire name (<c>?status=active</c>);
    /// an unknown value adds an error naming the allowed ones.
    /// </summary>
    public static TEnum? ReadFilter<TEnum>(string? value, string parameter, Dictionary<string, string[]> errors) where TEnum : struct, Enum
    {
        if (string.IsNullOrEmpty(value)) return null;
        if (Json.TryParse<TEnum>(value, out var parsed)) return parsed;
        errors[parameter] = [$"{parameter} must be one of: {string.Join(", ", Json.Names<TEnum>())}."];
        return null;
    }

    /// <summary>Builds the page from up to <paramref name="pageSize"/>+1 rows: the extra row only says that more exist.</summary>
    public static Page<TOut> ToPage<TRow, TOut>(IReadOnlyList<TRow> rows, int pageSize, Func<TRow, Guid> idOf, Func<TRow, TOut> map)
    {
        var items = rows.Take(pageSize).Select(map).ToList();
        var next = rows.Count > pageSize ? Encode(idOf(rows[pageSize - 1])) : null;
        return new Page<TOut>(items, next);
    }

    public static string Encode(Guid lastId) =>
        Base64Url.EncodeToString(Encoding.ASCII.GetBytes(Version + lastId.ToString("N")));

    public static bool TryDecode(string cursor, out Guid lastId)
    {
        lastId = Guid.Empty;
        if (cursor.Length > 100) return false;
        try
        {
            var text = Encoding.ASCII.GetString(Base64Url.DecodeFromChars(cursor));
            return text.StartsWith(Version, StringComparison.Ordinal) && Guid.TryParseExact(text[Version.Length..], "N", out lastId);
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
