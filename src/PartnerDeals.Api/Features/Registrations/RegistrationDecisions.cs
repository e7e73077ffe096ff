using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Features.ConflictChecks;
using PartnerDeals.Api.Features.Fees;
using PartnerDeals.Api.Features.Partners;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;
using PartnerDeals.Matching;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>
/// Who holds an account, and what every decision does. <see cref="SubmitAsync"/> checks and decides a registration (new,
/// edited, or waiting behind one that was released); <see cref="ApplyAsync"/> writes a decision a person, a CRM or the clock
/// made (each decision's guard and change is in a file of its own: <see cref="ApproveRegistration"/>, <see cref="RejectRegistration"/> …)
/// and lists every effect it has. Every method runs inside a decision transaction
/// (<see cref="Infrastructure.Data.Database.BeginDecisionAsync"/>), so checks and writes of two registrations never interleave,
/// on one instance or many.
/// </summary>
public sealed class RegistrationDecisions(
    ConflictChecker checker, ConflictStore conflicts, RegistrationStore registrations, PartnerStore partners,
    RegistrationJournal journal, FeeLedger fees, AuditTrail audit, IOptions<RegistrationOptions> options,
    IOptions<ProductLines.ProductCatalogue> catalogue, TimeProvider clock)
    : ITerminationStep
{
    /// <summary>
    /// Checks a submitted registration — new, edited, or re-evaluated after a release — applies the
    /// policy, and writes the registration, its conflict and its journal. Null when <paramref name="current"/>
    /// changed under us.
    /// </summary>
    public async Task<Registration?> SubmitAsync(
        DbSession session, Registration? current, Registration proposed, Partner partner, Actor actor, string action, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var policy = options.Value.Policy;
        var movedClaim = current is not null && (NamesAnotherCompany(current, proposed) || ClaimsOtherLines(current, proposed));
        // Precedence is earned by the company (and, under the product-line scope, the lines) claimed, not by the row: an
        // edit to another company or other lines joins the queue anew.
        if (movedClaim) proposed = proposed with { Seq = 0, SubmittedAt = now };
        var company = CompanyOf(proposed);
        var check = await checker.CheckAsync(session, company, proposed.Deal.Products, proposed.PartnerId, proposed.Id, proposed.Seq, ct);
        var matches = check.Candidates.Where(c => c.Match.Verdict != Verdict.Clear).ToList();
        var icp = policy.Icp.Evaluate(proposed.Customer, proposed.Deal);
        // Alternate names nothing ties to the company are not held (ConflictChecker); a person looks at why they were given.
        var unrelated = checker.UnrelatedAlternates(company);
        // A deal that needs two people's approval is never approved by the service alone.
        var autoApprove = check.Verdict == Verdict.Clear && unrelated.Count == 0 && icp.Qualified && policy.AutoApproves(partner.Tier)
            && partner.Status == PartnerStatus.Active && policy.SecondApprovalOver(proposed.Deal) is null;

        // A submission, or an edit, is approved afresh: approvals given to the deal as it was do not carry over.
        var decided = proposed with { Verdict = check.Verdict, Icp = icp, PolicyVersion = policy.EffectiveVersion, Approvals = [] };
        decided = autoApprove
            ? ApproveRegistration.Approved(decided, partner, now, "auto_approved", null)
            : decided with { Status = RegistrationStatus.PendingReview, Reason = PendingReason(check.Verdict, matches, unrelated), DecidedAt = null };
        decided = current is null
            ? decided with { Version = 1, PartnerVersion = 1, UpdatedAt = now, PartnerUpdatedAt = now }
            : current.NextVersion(decided, now);

        if (current is null) await registrations.InsertAsync(session, decided, actor.KeyId, ct);
        else if (!await registrations.UpdateAsync(session, current, decided, ct)) return null;

        var open = await conflicts.OpenForAsync(session, decided.Id, ct);
        Guid? conflictId = null;
        if (matches.Count > 0)
        {
            conflictId = await conflicts.RecordAsync(session, decided.Id, open?.Id, matches, decided.PolicyVersion, now, ct);
        }
        else if (open is not null)
        {
            await conflicts.ResolveAsync(session, open.Id, ConflictResolution.Cleared, "A later check found no match.", null, now, ct);
            await audit.RecordAsync(session, "conflict", open.Id, "conflict.resolved", Actor.System, new { resolution = "cleared" }, ct);
        }
        decided = decided with { ConflictId = conflictId };

        var decision = new
        {
            status = decided.Status,
            verdict = check.Verdict,
            icp,
            policyVersion = decided.PolicyVersion,
            conflictId,
            alternateNamesUnrelated = unrelated,
            matches = matches.Select(m => new { kind = m.Candidate.Kind, id = m.Candidate.Id, score = m.Match.Score, verdict = m.Match.Verdict }),
            // The same company, another product line: explained, not blocking.
            productsDisjoint = check.Candidates.Where(c => c.Match.Signals.Any(s => s.Name == ProductLines.ProductScope.Disjoint)).Select(c => new
            {
                kind = c.Candidate.Kind, id = c.Candidate.Id, score = c.Match.Score,
                lines = c.Match.Signals.First(s => s.Name == ProductLines.ProductScope.Disjoint).Detail,
            }),
        };
        object data = current is null
            ? new { registration = decided.AuditFields(), decision }
            : new { changes = AuditTrail.Changes(current.AuditFields(), decided.AuditFields()), decision };
        await journal.AuditAndTellFollowersAsync(session, current ?? decided, decided, action, actor, data, ct);
        await AccrueFeeAsync(session, decided, now, ct);
        // The old company is no longer claimed: whoever waited behind this registration for it is decided again.
        if (movedClaim) await ReleaseAsync(session, decided.Id, ct);
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

    /// <summary>Under the product-line scope, whether an edit's products are of other lines than before.</summary>
    private bool ClaimsOtherLines(Registration before, Registration after) =>
        catalogue.Value.ScopesConflicts && !catalogue.Value.LinesOf(before.Deal.Products).SequenceEqual(catalogue.Value.LinesOf(after.Deal.Products));

    /// <summary>
    /// Writes a decision (an approval, rejection, withdrawal, outcome, extension, expiry …) with every effect it has, in this
    /// order and in the decision's transaction, so none happens without the others. Null when <paramref name="current"/>
    /// changed under us (nothing is written then).
    /// </summary>
    public async Task<Registration?> ApplyAsync(
        DbSession session, Registration current, Registration changed, Actor actor, string action, object data, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        changed = current.NextVersion(changed, now);
        // 1. The row, at the version that was read.
        if (!await registrations.UpdateAsync(session, current, changed, ct)) return null;

        // 2. A registration that stops being a claim closes its open conflict.
        var released = Claims.IsClaim(current.Status) && !Claims.IsClaim(changed.Status);
        if (released && await conflicts.OpenForAsync(session, changed.Id, ct) is { } open)
        {
            await conflicts.ResolveAsync(session, open.Id, ConflictResolution.RegistrationClosed, $"The registration became {Json.Name(changed.Status)}.",
                actor, now, ct);
            await audit.RecordAsync(session, "conflict", open.Id, "conflict.resolved", actor, new { resolution = "registration_closed" }, ct);
            changed = changed with { ConflictId = null };
        }
        // 3. The audit event, and what its followers keep of it: the CRM sync's outbox row (a delivery per enabled CRM), the
        //    partner's webhooks.
        await journal.AuditAndTellFollowersAsync(session, current, changed, action, actor,
            new { from = current.Status, to = changed.Status, changes = AuditTrail.Changes(current.AuditFields(), changed.AuditFields()), detail = data }, ct);
        // 4. The fee the decision earned the partner (the ledger tells its followers: the partner's webhooks).
        await AccrueFeeAsync(session, changed, now, ct);
        // 5. The registrations that waited behind a released claim are decided again, oldest first.
        if (released) await ReleaseAsync(session, changed.Id, ct);
        return changed;
    }

    /// <summary>
    /// Accrues what the registration as it now is earned the partner: an approval's fixed fee, a win's share, by the terms
    /// snapshotted at approval; the ledger accrues each once.
    /// </summary>
    private async Task AccrueFeeAsync(DbSession session, Registration after, DateTimeOffset now, CancellationToken ct)
    {
        var won = after.Status == RegistrationStatus.Won && SoldARegisteredLine(after);
        // A deal split between its team: each share earns by its partner's terms.
        if (won && after.Outcome?.Amount is not null && await RegistrationSplits.CurrentAsync(session, after.Id, ct) is { } split)
        {
            var members = (await RegistrationTeam.ActiveTermsAsync(session, after.Id, ct)).ToDictionary(m => m.MemberId);
            await RegistrationSplits.AccrueAsync(session, fees, after, split, members, now, ct);
            return;
        }
        var basis = new FeeBasis(after.Id, after.PartnerId, after.Terms, after.Status == RegistrationStatus.Approved && after.Icp.Qualified,
            won ? after.Outcome?.Amount : null, won ? after.Outcome?.Currency : null);
        await fees.AccrueAsync(session, basis, now, ct);
    }

    /// <summary>
    /// Under the product-line scope a win pays for the lines the partner registered: one whose products are all of other lines
    /// earns no fee. A win naming no product, a registration naming none, and a product of no line give the partner the benefit.
    /// </summary>
    private bool SoldARegisteredLine(Registration won)
    {
        if (!catalogue.Value.ScopesConflicts || won.Outcome is not { Products.Count: > 0 } outcome || won.Deal.Products.Count == 0) return true;
        var registered = catalogue.Value.LinesOf(won.Deal.Products);
        return catalogue.Value.LinesOf(outcome.Products).Any(l => l == ProductLines.ProductCatalogue.Unlisted || registered.Contains(l));
    }

    /// <summary>
    /// A terminated partner holds nothing: each of its claims (pending, returned for information,
    /// approved) is withdrawn as <c>partner_terminated</c>, and the registrations waiting behind them
    /// are re-evaluated. Fees already earned stay; a withdrawn registration can earn no more. Runs in the
    /// termination's decision transaction; answers how many claims it released.
    /// </summary>
    public async Task<int> ReleaseClaimsOfAsync(DbSession session, Guid partnerId, Actor actor, CancellationToken ct)
    {
        var released = 0;
        foreach (var id in await registrations.ActiveClaimsOfAsync(session, partnerId, ct))
        {
            var claim = (await registrations.GetAsync(session, id, ct))!;
            var withdrawn = claim with { Status = RegistrationStatus.Withdrawn, Reason = "partner_terminated", DecidedAt = clock.GetUtcNow() };
            if (await ApplyAsync(session, claim, withdrawn, actor, "registration.released", new { reason = "partner_terminated" }, ct) is not null) released++;
        }
        return released;
    }

    int ITerminationStep.Order => 3;

    string ITerminationStep.Recorded => "releasedRegistrations";

    Task<int> ITerminationStep.TerminateAsync(DbSession session, Guid partnerId, Actor actor, DateTimeOffset now, CancellationToken ct) =>
        ReleaseClaimsOfAsync(session, partnerId, actor, ct);

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
    public async Task<ScoredCandidate?> HolderAsync(DbSession session, Registration registration, CancellationToken ct)
    {
        var company = CompanyOf(registration);
        var check = await checker.CheckAsync(session, company, registration.Deal.Products, registration.PartnerId, registration.Id, registration.Seq, ct);
        return check.Candidates.FirstOrDefault(c => c.Candidate.HoldsAccount && c.Match.Verdict == Verdict.Conflict);
    }

    private static string PendingReason(Verdict verdict, IReadOnlyList<ScoredCandidate> matches, IReadOnlyList<string> unrelatedAlternates) =>
        matches.Any(m => m.Candidate.Kind == CandidateKind.DuplicateRegistration && m.Match.Verdict == Verdict.Conflict) ? "duplicate_registration"
        : verdict == Verdict.Conflict ? "account_unavailable"
        : verdict == Verdict.Review ? "account_under_review"
        : unrelatedAlternates.Count > 0 ? "alternate_names_unrelated"
        : "awaiting_review";

    /// <summary>Re-evaluates, oldest first, the pending registrations whose conflict named the released one.</summary>
    private async Task ReleaseAsync(DbSession session, Guid releasedId, CancellationToken ct)
    {
        var waitingBehind = await registrations.PendingInOrderAsync(session, await conflicts.OpenNamingAsync(session, releasedId, ct), ct);
        foreach (var id in waitingBehind)
        {
            var waiting = await registrations.GetAsync(session, id, ct);
            if (waiting is not { Status: RegistrationStatus.PendingReview }) continue;
            var partner = await partners.GetAsync(session, waiting.PartnerId, ct);
            if (partner is null) continue;
            await SubmitAsync(session, waiting, waiting, partner, Actor.System, "registration.reevaluated", ct);
        }
    }
}

/// <summary>
/// What a decision decided, from its guard to the handler: the changed registration with the action's name and data, or the
/// problem that refuses it. The one result of a registration decision.
/// </summary>
public sealed record Step(Registration? Changed, string? Action, object? Data, ProblemHttpResult? Problem)
{
    public static Step To(Registration changed, string action, object? data = null) => new(changed, action, data, null);

    public static Step Refuse(ProblemHttpResult problem) => new(null, null, null, problem);

    // What the decision writer hands back to the handler: the same type, its writes kept or rolled back.

    /// <summary>Refused: whatever the decision wrote is rolled back, and the handler answers the problem.</summary>
    public static Decided<Step> Refused(ProblemHttpResult problem) => Decided<Step>.Discarded(Refuse(problem));

    /// <summary>Written: the registration as it now is.</summary>
    public static Decided<Step> Written(Registration registration) => Decided<Step>.Kept(new(registration, null, null, null));

    /// <summary>Nothing to write: the registration as it was.</summary>
    public static Decided<Step> Unchanged(Registration registration) => Decided<Step>.Discarded(new(registration, null, null, null));

    /// <summary>For the handler: the problem that refused the decision, or the registration it left.</summary>
    public void Deconstruct(out ProblemHttpResult? problem, out Registration? changed) => (problem, changed) = (Problem, Changed);

    /// <summary>A decision's new note is the vendor's alone unless ops show it to the partner.</summary>
    public Step SharingNote(string? note, bool visibleToPartner) =>
        Changed is null || string.IsNullOrWhiteSpace(note) ? this : this with { Changed = Changed with { DecisionNoteVisibleToPartner = visibleToPartner } };

    public static Step NotFrom(Registration current, string action, params RegistrationStatus[] allowed) => Refuse(Problems.InvalidTransition(
        $"{action} is allowed only from {string.Join(" or ", allowed.Select(a => Json.Name(a)))}; this registration is {Json.Name(current.Status)}."));
}
