using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Infrastructure.Data;

namespace PartnerDeals.Api.Features.Partners;

/// <summary>
/// What a feature that holds something of a partner's does when the partner is terminated, in the termination's
/// own decision transaction: its keys are revoked, its webhooks disabled, its claims released. Each of those
/// features registers its step, so the partner program depends on none of them.
/// </summary>
public interface ITerminationStep
{
    /// <summary>Steps run in this order: the keys and webhooks go before the claims are released, so a terminated partner hears nothing more.</summary>
    int Order { get; }

    /// <summary>What the <c>partner.updated</c> audit record calls the step's count, e.g. <c>revokedApiKeys</c>.</summary>
    string Recorded { get; }

    /// <summary>Answers how many things it revoked, disabled or released.</summary>
    Task<int> TerminateAsync(DbSession session, Guid partnerId, Actor actor, DateTimeOffset now, CancellationToken ct);

    /// <summary>After a change of the partner has committed: its status may have changed (a suspension too), so what caches it forgets.</summary>
    void StatusChanged() { }
}
