using System.Data.Common;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Features.ConflictChecks;
using PartnerDeals.Api.Features.Conflicts;
using PartnerDeals.Api.Features.Partners;
using PartnerDeals.Matching;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>
/// The rules that decide who holds an account. Every method runs inside a decision transaction
/// (<see cref="Infrastructure.Data.Database.BeginDecisionAsync"/>), so checks and writes of two
/// registrations never interleave, on one instance or many.
/// </summary>
public sealed class RegistrationDecisions(
    ConflictChecker checker, ConflictStore conflicts, RegistrationStore registrations, PartnerStore partners,
    RegistrationJournal journal, AuditTrail audit, IOptions<RegistrationOptions> options, TimeProvider clock)
{
    /// <summary>
    /// Checks a submitted registration — new, edited, or re-evaluated after a release — applies the
    /// policy, and writes the registration, its conflict and its journal. Null when <paramref name="current"/>
    /// changed under us.
    /// </summary>
    public async Task<Registration?> SubmitAsync(
        DbTransaction tx, Registration? current, Registration proposed, Partner partner, Actor actor, string action, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var policy = options.Value.Policy;
        var movedCompany = current is not null && NamesAnotherCompany(current, proposed);
        // Precedence is earned by the company claimed, not by the row: an edit to another company joins the queue anew.
        if (movedCompany) proposed = proposed with { Seq = 0, SubmittedAt = now };
        var company = CompanyOf(proposed);
        var check = await checker.CheckAsync(tx, company, proposed.PartnerId, proposed.Id, proposed.Seq, ct);
        var matches = check.Candidates.Where(c => c.Match.Verdict != Verdict.Clear).ToList();
        var icp = policy.Icp.Evaluate(proposed.Customer, proposed.Deal);
        var autoApprove = check.Verdict == Verdict.Clear && icp.Qualified && policy.AutoApproves(partner.Tier) && partner.Status == PartnerStatus.Active;

        var decided = proposed with { Verdict = check.Verdict, Icp = icp, PolicyVersion = policy.EffectiveVersion };
        decided = autoApprove
            ? Approve(decided, partner, now, "auto_approved", null)
            : decided with { Status = RegistrationStatus.PendingReview, Reason = PendingReason(check.Verdict, matches), DecidedAt = null };
        decided = current is null
            ? decided with { Version = 1, PartnerVersion = 1, UpdatedAt = now, PartnerUpdatedAt = now }
            : current.NextVersion(decided, now);

        if (current is null) await registrations.InsertAsync(tx, decided, actor.KeyId, ct);
        else if (!await registrations.UpdateAsync(tx, current, decided, ct)) return null;

        var open = await conflicts.OpenForAsync(tx, decided.Id, ct);
        Guid? conflictId = null;
        if (matches.Count > 0)
        {
            conflictId = await conflicts.RecordAsync(tx, decided.Id, open?.Id, matches, decided.PolicyVersion, now, ct);
        }
        else if (open is not null)
        {
            await conflicts.ResolveAsync(tx, open.Id, ConflictResolution.Cleared, "A later check found no match.", null, now, ct);
            await audit.RecordAsync(tx, "conflict", open.Id, "conflict.resolved", Actor.System, new { resolution = "cleared" }, ct);
        }
        decided = decided with { ConflictId = conflictId };

        var decision = new
        {
            status = decided.Status,
            verdict = check.Verdict,
            icp,
            policyVersion = decided.PolicyVersion,
            conflictId,
            matches = matches.Select(m => new { kind = m.Candidate.Kind, id = m.Candidate.Id, score = m.Match.Score, verdict = m.Match.Verdict }),
        };
        object data = current is null
            ? new { registration = decided.AuditFields(), decision }
            : new { changes = AuditTrail.Changes(current.AuditFields(), decided.AuditFields()), decision };
        await journal.RecordAsync(tx, decided, action, actor, data, ct);
        // The old company is no longer claimed: whoever waited behind this registration for it is decided again.
        if (movedCompany) await ReleaseAsync(tx, decided.Id, ct);
        return decided;
    }

    /// <summary>
    /// Whether an edit claims another company: a new name, alternate names or website. Contact, deal,
    /// co-sell, industry, size and country edits keep the registration's place.
    /// </summary>
    public static bool NamesAnotherCompany(Registration before, Registration after) =>
        CompanyName.Normalise(before.Customer.CompanyName).Key != CompanyName.Normalise(after.Customer.CompanyName).Key
        || Domains.CompanyDomain(before.Customer.Domain) != Domains.CompanyDomain(after.Customer.Domain)
        || !before.Customer.AlternateNames.Order(StringComparer.Ordinal).SequenceEqual(after.Customer.AlternateNames.Order(StringComparer.Ordinal));

    /// <summary>
    /// Writes a decided change (approval, rejection, withdrawal, outcome, expiry …). When the
    /// registration stops being a claim its open conflict closes and the registrations waiting
    /// behind it are re-evaluated in order. Null when <paramref name="current"/> changed under us.
    /// </summary>
    public async Task<Registration?> TransitionAsync(
        DbTransaction tx, Registration current, Registration changed, Actor actor, string action, object data, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        changed = current.NextVersion(changed, now);
        if (!await registrations.UpdateAsync(tx, current, changed, ct)) return null;

        var released = IsClaim(current.Status) && !IsClaim(changed.Status);
        if (released && await conflicts.OpenForAsync(tx, changed.Id, ct) is { } open)
        {
            await conflicts.ResolveAsync(tx, open.Id, ConflictResolution.RegistrationClosed, $"The registration became {Infrastructure.Http.Json.Name(changed.Status)}.",
                actor.KeyId, now, ct);
            await audit.RecordAsync(tx, "conflict", open.Id, "conflict.resolved", actor, new { resolution = "registration_closed" }, ct);
            changed = changed with { ConflictId = null };
        }
        await journal.RecordAsync(tx, changed, action, actor,
            new { from = current.Status, to = changed.Status, changes = AuditTrail.Changes(current.AuditFields(), changed.AuditFields()), detail = data }, ct);
        if (released) await ReleaseAsync(tx, changed.Id, ct);
        return changed;
    }

    /// <summary>
    /// A terminated partner holds nothing: each of its claims (pending, returned for information,
    /// approved) is withdrawn as <c>partner_terminated</c>, and the registrations waiting behind them
    /// are re-evaluated. Fees already earned stay; a withdrawn registration can earn no more. Runs in the
    /// termination's decision transaction; answers how many claims it released.
    /// </summary>
    public async Task<int> ReleaseClaimsOfAsync(DbTransaction tx, Guid partnerId, Actor actor, CancellationToken ct)
    {
        var released = 0;
        foreach (var id in await registrations.ActiveClaimsOfAsync(tx, partnerId, ct))
        {
            var claim = (await registrations.GetAsync(tx.Connection!, tx, id, ct))!;
            var withdrawn = claim with { Status = RegistrationStatus.Withdrawn, Reason = "partner_terminated", DecidedAt = clock.GetUtcNow() };
            if (await TransitionAsync(tx, claim, withdrawn, actor, "registration.released", new { reason = "partner_terminated" }, ct) is not null) released++;
        }
        return released;
    }

    /// <summary>
    /// The company a registration claims, as the matcher sees it: every name, and the contact's e-mail
    /// domain as evidence when no company website is given (never a free-mail domain).
    /// </summary>
    public static Company CompanyOf(Registration r) =>
        Company.From(r.Customer.CompanyName, r.Customer.Domain, r.Customer.Country, r.Customer.AlternateNames, r.Contact.Email);

    /// <summary>
    /// The approved registration of another claim that holds this account, if any: approving this one
    /// too would give the account two holders.
    /// </summary>
    public async Task<ScoredCandidate?> HolderAsync(DbTransaction tx, Registration registration, CancellationToken ct)
    {
        var company = CompanyOf(registration);
        var check = await checker.CheckAsync(tx, company, registration.PartnerId, registration.Id, registration.Seq, ct);
        return check.Candidates.FirstOrDefault(c => c.Candidate.HoldsAccount && c.Match.Verdict == Verdict.Conflict);
    }

    /// <summary>The registration approved now, protected for the partner's protection days, its terms snapshotted.</summary>
    public static Registration Approve(Registration registration, Partner partner, DateTimeOffset now, string reason, string? note) =>
        registration with
        {
            Status = RegistrationStatus.Approved,
            Reason = reason,
            DecisionNote = note ?? registration.DecisionNote,
            DecidedAt = now,
            ApprovedAt = now,
            ProtectionExpiresAt = now.AddDays(partner.Terms.ProtectionDays),
            Terms = new TermsSnapshot(partner.Tier, partner.Terms.FeeModel, partner.Terms.FeePercent, partner.Terms.FeeAmount,
                partner.Terms.FeeCurrency, partner.Terms.FeeTrigger, partner.Terms.PaymentNetDays, partner.Terms.ProtectionDays),
        };

    /// <summary>The registration rejected now for <paramref name="reason"/>; the partner reads the partner-safe reason.</summary>
    public static Registration Reject(Registration registration, RejectionReason reason, string? note, DateTimeOffset now) =>
        registration with
        {
            Status = RegistrationStatus.Rejected,
            Reason = RejectedReason(reason),
            RejectionReason = reason,
            DecisionNote = note,
            DecidedAt = now,
        };

    /// <summary>A claim on the account: it blocks later registrations of the same company.</summary>
    public static bool IsClaim(RegistrationStatus status) =>
        status is RegistrationStatus.PendingReview or RegistrationStatus.MoreInfoRequested or RegistrationStatus.Approved;

    /// <summary>What a partner may read about a rejection: never whose claim it lost to.</summary>
    public static string RejectedReason(RejectionReason reason) => reason switch
    {
        RejectionReason.Duplicate => "rejected_duplicate",
        RejectionReason.DirectConflict or RejectionReason.ExistingCustomer => "rejected_account_unavailable",
        RejectionReason.NotIcp => "rejected_not_icp",
        RejectionReason.Incomplete => "rejected_incomplete",
        _ => "rejected_other",
    };

    private static string PendingReason(Verdict verdict, IReadOnlyList<ScoredCandidate> matches) =>
        matches.Any(m => m.Candidate.Kind == CandidateKind.DuplicateRegistration && m.Match.Verdict == Verdict.Conflict) ? "duplicate_registration"
        : verdict == Verdict.Conflict ? "account_unavailable"
        : verdict == Verdict.Review ? "account_under_review"
        : "awaiting_review";

    /// <summary>Re-evaluates, oldest first, the pending registrations whose conflict named the released one.</summary>
    private async Task ReleaseAsync(DbTransaction tx, Guid releasedId, CancellationToken ct)
    {
        foreach (var id in await registrations.WaitingBehindAsync(tx, releasedId, ct))
        {
            var waiting = await registrations.GetAsync(tx.Connection!, tx, id, ct);
            if (waiting is not { Status: RegistrationStatus.PendingReview }) continue;
            var partner = await partners.GetAsync(tx.Connection!, tx, waiting.PartnerId, ct);
            if (partner is null) continue;
            await SubmitAsync(tx, waiting, waiting, partner, Actor.System, "registration.reevaluated", ct);
        }
    }
}
