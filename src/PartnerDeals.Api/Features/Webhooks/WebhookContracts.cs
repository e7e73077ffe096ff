using System.ComponentModel.DataAnnotations;
using FluentValidation;
using PartnerDeals.Api.Infrastructure.Http;

namespace PartnerDeals.Api.Features.Webhooks;

/// <summary>Bound from <c>Webhooks</c>.</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>Plain <c>http</c> to a loopback address (and loopback at all): for development and tests only.</summary>
    public bool AllowLoopbackHttp { get; set; }

    [Range(1, 100)]
    public int MaxEndpointsPerPartner { get; set; } = 10;

    /// <summary>How long one attempt may take, connect to last byte read.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often each instance looks for due deliveries when the last look found none.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Deliveries in flight at once on an instance.</summary>
    [Range(1, 500)]
    public int BatchSize { get; set; } = 64;

    /// <summary>Deliveries in flight at once to one endpoint: what a slow receiver can hold up.</summary>
    public int MaxInFlightPerEndpoint { get; set; } = 16;

    /// <summary>Deliveries in flight at once to one partner's endpoints together: well under <c>BatchSize</c>, so others always find room.</summary>
    public int MaxInFlightPerPartner { get; set; } = 16;

    /// <summary>Test events one endpoint may be sent per minute.</summary>
    public int TestsPerMinute { get; set; } = 5;

    /// <summary>How long a lease holds a delivery for its instance; longer than an attempt.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The waits after each failed attempt: seconds, minutes, then hours, about three days in all (after the
    /// Standard Webhooks specification's example). A delivery is dead after its last.
    /// </summary>
    public List<TimeSpan> RetrySchedule { get; set; } = [];

    public static readonly IReadOnlyList<TimeSpan> DefaultRetrySchedule =
    [
        TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2),
        TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(14), TimeSpan.FromHours(20), TimeSpan.FromHours(20),
    ];

    /// <summary>The retry schedule in force: the configured one, or the default.</summary>
    public IReadOnlyList<TimeSpan> Retries => RetrySchedule.Count > 0 ? RetrySchedule : DefaultRetrySchedule;

    /// <summary>How long the previous secret still signs after a rotation.</summary>
    public TimeSpan RotationOverlap { get; set; } = TimeSpan.FromHours(24);

    /// <summary>An endpoint that has failed every attempt for this long is disabled.</summary>
    public TimeSpan DisableAfter { get; set; } = TimeSpan.FromDays(5);

    /// <summary>How many days before a protection window ends its <c>registration.expiring</c> is sent.</summary>
    [Range(1, 365)]
    public int ExpiringNoticeDays { get; set; } = 7;

    public bool IsValid =>
        Timeout > TimeSpan.Zero && PollInterval > TimeSpan.Zero && Lease > Timeout && RotationOverlap >= TimeSpan.Zero
        && DisableAfter > TimeSpan.Zero && Retries.All(r => r > TimeSpan.Zero) && Retries.Count <= 50
        && BatchSize >= 1 && MaxInFlightPerEndpoint >= 1 && MaxInFlightPerPartner >= MaxInFlightPerEndpoint && TestsPerMinute >= 1;
}

/// <summary>The events a partner may subscribe to.</summary>
public static class WebhookEventTypes
{
    public const string Test = "webhook.test";
    public const string Expiring = "registration.expiring";
    public const string FeeAccrued = "fee.accrued";
    public const string FeePaid = "fee.paid";
    public const string NoteAdded = "registration.note_added";

    public static readonly IReadOnlyList<string> All =
    [
        "registration.created", "registration.approved", "registration.rejected", "registration.more_info_requested",
        "registration.withdrawn", Expiring, "registration.expired", "registration.extension_granted", "registration.extension_refused",
        "registration.won", "registration.lost", NoteAdded, FeeAccrued, FeePaid,
    ];

    public static bool Matches(IReadOnlyList<string> subscribed, string type) =>
        type == Test || subscribed.Contains("*") || subscribed.Contains(type);
}

/// <summary>A partner's endpoint. Its signing secret is shown only when created or rotated.</summary>
public sealed record WebhookSubscription
{
    /// <example>0193a6f2-7c1e-7d3a-9f00-5b2c8e4d1a10</example>
    public required Guid Id { get; init; }
    public required Guid PartnerId { get; init; }

    /// <example>https://example.com/partnerdeals/webhooks</example>
    public required string Url { get; init; }

    /// <summary>Event names, or <c>*</c> for all.</summary>
    /// <example>["registration.approved", "fee.accrued"]</example>
    public required IReadOnlyList<string> Events { get; init; }

    public string? Description { get; init; }

    /// <summary>False when turned off by the partner or ops, by a <c>410 Gone</c>, or after failing for days.</summary>
    public required bool Enabled { get; init; }

    /// <summary>Why it is disabled: <c>disabled</c> (by a caller), <c>gone</c> (the receiver answered 410), <c>failing</c>, <c>partner_terminated</c>.</summary>
    /// <example>gone</example>
    public string? DisabledReason { get; init; }

    public DateTimeOffset? DisabledAt { get; init; }

    /// <summary>Until when the previous secret still signs, after a rotation.</summary>
    public DateTimeOffset? PreviousSecretValidUntil { get; init; }

    /// <summary>The first failed attempt since the last delivered one; null while it delivers.</summary>
    public DateTimeOffset? FailingSince { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>An endpoint just created, or its secret just rotated: <c>secret</c> is shown this once.</summary>
public sealed record WebhookSubscriptionWithSecret
{
    public required WebhookSubscription Webhook { get; init; }

    /// <summary>The signing secret (Standard Webhooks: <c>whsec_</c> and 32 random bytes in base64). Store it now.</summary>
    /// <example>whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw</example>
    public required string Secret { get; init; }
}

/// <summary>Add an endpoint.</summary>
public sealed record CreateWebhookRequest
{
    /// <summary>An https URL that does not resolve to a private, loopback, link-local or metadata address.</summary>
    /// <example>https://example.com/partnerdeals/webhooks</example>
    [Required]
    public string? Url { get; init; }

    /// <summary>Event names, or <c>["*"]</c> for all.</summary>
    /// <example>["*"]</example>
    [Required]
    public IReadOnlyList<string>? Events { get; init; }

    /// <summary>Up to 500 characters.</summary>
    /// <example>Partner portal, production</example>
    public string? Description { get; init; }
}

/// <summary>Change an endpoint: only the fields given change.</summary>
public sealed record UpdateWebhookRequest
{
    public string? Url { get; init; }

    /// <example>["registration.approved", "registration.rejected"]</example>
    public IReadOnlyList<string>? Events { get; init; }

    /// <example>Partner portal, decisions only</example>
    public string? Description { get; init; }

    /// <summary>False turns deliveries off (pending ones wait); true turns them on again.</summary>
    public bool? Enabled { get; init; }
}

/// <summary>One event on its way to one endpoint.</summary>
public sealed record WebhookDelivery
{
    public required Guid Id { get; init; }
    public required Guid WebhookId { get; init; }

    /// <summary>The event's id: the <c>webhook-id</c> header, the same on every attempt and replay.</summary>
    /// <example>msg_0193a6f27c1e7d3a9f005b2c8e4d1a10</example>
    public required string MessageId { get; init; }

    /// <example>registration.approved</example>
    public required string EventType { get; init; }

    /// <summary><c>pending</c>, <c>delivered</c> or <c>dead</c>.</summary>
    /// <example>delivered</example>
    public required string Status { get; init; }

    public required int Attempts { get; init; }
    public DateTimeOffset? NextAttemptAt { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? DeliveredAt { get; init; }

    /// <summary>Every attempt, oldest first.</summary>
    public required IReadOnlyList<WebhookAttempt> AttemptLog { get; init; }

    /// <summary>A delivery of the outbox's webhook channel, as the partner reads it.</summary>
    public static WebhookDelivery From(Outbox.StoredDelivery d) => new()
    {
        Id = d.Id,
        WebhookId = Guid.Parse(d.Destination),
        MessageId = WebhookSigning.MessageId(d.EventId),
        EventType = d.EventType,
        Status = d.Status,
        Attempts = d.Attempts,
        NextAttemptAt = d.Status == Outbox.DeliveryStates.Pending ? d.NextAttemptAt : null,
        CreatedAt = d.CreatedAt,
        DeliveredAt = d.DeliveredAt,
        AttemptLog = (d.Attempted ?? []).Select(a => new WebhookAttempt(a.Outcome, a.StatusCode, a.DurationMs, a.Response, a.Error, a.StartedAt)).ToList(),
    };
}

/// <param name="Outcome"><c>delivered</c>, <c>failed</c>, <c>timeout</c>, <c>unreachable</c>, <c>refused_address</c> or <c>gone</c>.</param>
/// <param name="StatusCode">The receiver's HTTP status, when it answered.</param>
/// <param name="LatencyMs">From connecting to the answer's headers and its first KiB.</param>
/// <param name="Response">The first 1 KiB of the receiver's answer.</param>
/// <param name="Error">What went wrong on the way, when nothing usable came back.</param>
/// <param name="StartedAt">When the attempt began.</param>
public sealed record WebhookAttempt(string Outcome, int? StatusCode, int LatencyMs, string? Response, string? Error, DateTimeOffset StartedAt);

/// <summary>What a replay or a test queued.</summary>
/// <param name="Queued">Deliveries queued.</param>
public sealed record WebhookQueued(int Queued);

public sealed class CreateWebhookRequestValidator : AbstractValidator<CreateWebhookRequest>
{
    public CreateWebhookRequestValidator()
    {
        RuleFor(x => x.Url).NotEmpty().MaximumLength(2000);
        RuleFor(x => x.Events).NotNull().Must(e => e is null || e.Count > 0).WithMessage("events must name at least one event, or \"*\".");
        RuleForEach(x => x.Events).Must(WebhookEventRules.IsKnown).WithMessage(WebhookEventRules.Unknown);
        RuleFor(x => x.Description).FreeText(500);
    }
}

public sealed class UpdateWebhookRequestValidator : AbstractValidator<UpdateWebhookRequest>
{
    public UpdateWebhookRequestValidator()
    {
        RuleFor(x => x.Url).NotEmpty().MaximumLength(2000).When(x => x.Url is not null);
        RuleFor(x => x.Events).Must(e => e!.Count > 0).WithMessage("events must name at least one event, or \"*\".").When(x => x.Events is not null);
        RuleForEach(x => x.Events).Must(WebhookEventRules.IsKnown).WithMessage(WebhookEventRules.Unknown);
        RuleFor(x => x.Description).FreeText(500);
    }
}

internal static class WebhookEventRules
{
    public static bool IsKnown(string? name) => name == "*" || (name is not null && WebhookEventTypes.All.Contains(name));

    public static readonly string Unknown = "Unknown event; known events are \"*\", " + string.Join(", ", WebhookEventTypes.All) + ".";
}
