using System.ComponentModel.DataAnnotations;

namespace PartnerDeals.Api.Infrastructure.Http;

/// <summary>Bound from the <c>Http</c> section.</summary>
public sealed class HttpOptions
{
    public const string Section = "Http";

    /// <summary>Largest accepted request body; larger bodies answer 413. 1 MiB by default.</summary>
    [Range(1_024, 1_073_741_824)]
    public long MaxRequestBodyBytes { get; set; } = 1_048_576;
}
