using System.Globalization;
using System.Reflection;
using System.Text;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Net.Http.Headers;

namespace PartnerDeals.Api.Infrastructure.Http;

/// <summary>
/// A list answered as <c>text/csv</c> for spreadsheets, when the caller's <c>Accept</c> prefers it.
/// Cells that a spreadsheet would run as a formula (<c>= + - @</c>, tab, CR) are prefixed with <c>'</c>.
/// </summary>
public sealed class CsvResult(string fileName, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string?>> rows)
    : IResult, IEndpointMetadataProvider
{
    public const string MediaType = "text/csv";

    /// <summary>True when the caller's <c>Accept</c> ranks <c>text/csv</c> above JSON.</summary>
    public static bool IsPreferred(HttpRequest request)
    {
        var accepted = request.GetTypedHeaders().Accept;
        if (accepted.Count == 0) return false;
        double Quality(string type) => accepted.Where(a => a.MediaType.Equals(type, StringComparison.OrdinalIgnoreCase))
            .Select(a => a.Quality ?? 1.0).DefaultIfEmpty(-1).Max();
        var csv = Quality(MediaType);
        return csv > 0 && csv >= Math.Max(Quality("application/json"), Quality("*/*"));
    }

    public static string Cell(decimal? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "";

    public static string Cell(double? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "";

    public static string Cell(DateTimeOffset? value) => value?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "";

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.ContentType = MediaType + "; charset=utf-8";
        response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = fileName }.ToString();
        // RFC 4180 by hand: a handful of cells per row, quoted only when they must be.
        await using var writer = new StreamWriter(response.Body, new UTF8Encoding(false), 16 * 1024, leaveOpen: true);
        await writer.WriteAsync(string.Join(',', header.Select(Quoted)) + "\r\n");
        foreach (var row in rows)
        {
            await writer.WriteAsync(string.Join(',', row.Select(c => Quoted(Defused(c)))) + "\r\n");
        }
        await writer.FlushAsync(httpContext.RequestAborted);
    }

    /// <summary>Marks an endpoint that can answer CSV; the OpenAPI document adds <c>text/csv</c> beside its JSON 200.</summary>
    public sealed class Documented;

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => builder.Metadata.Add(new Documented());

    private static string Quoted(string cell) =>
        cell.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + cell.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : cell;

    private static string Defused(string? cell) =>
        cell is { Length: > 0 } && cell[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + cell : cell ?? "";
}
