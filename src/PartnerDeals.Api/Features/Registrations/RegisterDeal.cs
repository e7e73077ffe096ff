using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Text.Json;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using PartnerDeals.Api.Features.Audit;
using PartnerDeals.Api.Features.ConflictChecks;
using PartnerDeals.Api.Features.Partners;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;
using PartnerDeals.Matching;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>
/// <c>POST /v1/registrations</c>: a partner registers a deal. The conflict check and the policy decide in the
/// insert's own decision transaction; an Idempotency-Key makes a retry answer what the first attempt did.
/// </summary>
public static class RegisterDeal
{
    public static void Map(RouteGroupBuilder registrations) =>
        registrations.MapPost("/", Create)
            .WithName("CreateRegistration")
            .WithSummary("Register a deal")
            .WithDescription("Partner keys register for their own partner; ops and admin on behalf of the partner named in partnerId; a distributor "
                + "for an active reseller named in onBehalfOf (the registration is the reseller's, registeredBy the distributor, which is on its team; "
                + "for any other partner, existing or not, 403 and nothing stored). "
                + "The conflict check and the policy run in the same transaction as the insert: the answer carries status "
                + "(approved or pending_review), verdict and a partner-safe reason. Send an Idempotency-Key: a retry with the same key and body "
                + "returns the first answer (header Idempotent-Replayed: true); the same key with another body answers 422. A partner key's registration "
                + "draws on the partner's check quota, as its pre-checks do (429 with Retry-After beyond it; nothing is stored).")
            .RequireAuthorization(Policies.Registrant)
            .WithValidation<CreateRegistrationRequest>()
            .WithETag()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

    private static async Task<Results<Created<Registration>, ValidationProblem, ProblemHttpResult>> Create(
        CreateRegistrationRequest request, [FromHeader(Name = IdempotencyKeys.Header)] string? idempotencyKey, ClaimsPrincipal user,
        HttpResponse response, [AsParameters] RegistrationServices s, IdempotencyKeys idempotency, CancellationToken ct)
    {
        var (partnerId, distributor, invalid) = Whose(request, user);
        if (invalid is not null) return invalid;
        if (idempotencyKey is not null && !IdempotencyKeys.IsValid(idempotencyKey)) return Problems.Validation(IdempotencyKeys.Header, IdempotencyKeys.Rule);

        // Per partner for a partner's keys and people (they all share them), per key or person for the vendor side.
        var scope = user.IsPartner() ? $"partner:{user.PartnerId()}" : user.PersonId() is { } person ? $"person:{person}" : $"key:{user.KeyId()}";
        var now = s.Clock.GetUtcNow();
        var proposed = New(Ids.New(now), partnerId, request, now) with { RegisteredBy = distributor };
        // The same request is the same meaning: compared after trimming, defaults and exact amounts, not as typed.
        var hash = IdempotencyKeys.Hash(new { proposed.PartnerId, proposed.Customer, proposed.Contact, proposed.Deal, proposed.CoSell });
        var hashAsTyped = IdempotencyKeys.Hash(request with { PartnerId = partnerId });

        QuotaAnswer? quota = null;
        var (problem, earlier, created) = await s.Writer.DecideAsync(async session =>
        {
            if (idempotencyKey is not null && await idempotency.FindAsync(session, scope, idempotencyKey, ct) is { } stored)
            {
                return Decided<Submission>.Discarded(new(null, stored, null));
            }
            var (refused, registered, asked) = await SubmitAsync(session, s, user, proposed, distributor, response, ct);
            quota = asked;
            if (refused is not null) return Submission.Refused(refused);
            try
            {
                if (idempotencyKey is not null)
                {
                    var body = JsonSerializer.Serialize(RegistrationsApi.View(registered!, user), Json.Options);
                    await idempotency.SaveAsync(session, scope, idempotencyKey, new StoredResponse(hash, StatusCodes.Status201Created, registered!.Id, body), ct);
                }
            }
            catch (Exception e) when (SqlDialect.IsUniqueViolation(e))
            {
                // A concurrent request with the same key committed first (another instance on SQL Server): its answer is the answer.
                return Decided<Submission>.Discarded(new(null, null, null));
            }
            return Decided<Submission>.Kept(new(null, null, registered!));
        }, ct);

        if (quota is { Allowed: false })
        {
            await s.Checks.LogRefusalAsync(distributor ?? partnerId, user.CallerId(), RegistrationsApi.Asked(PartnerPreChecks.Registration, proposed), quota, ct);
        }
        if (problem is not null) return problem;
        if (created is not null)
        {
            response.Headers.ETag = RegistrationsApi.ETagFor(created, user);
            return TypedResults.Created($"/v1/registrations/{created.Id}", RegistrationsApi.View(created, user));
        }
        earlier ??= await idempotency.FindAsync(scope, idempotencyKey!, ct);
        return Replay(earlier!, hash, hashAsTyped, response);
    }

    /// <summary>
    /// Whose registration a request is: the caller's partner, the partner ops name, or a distributor's reseller (then the
    /// distributor too); or the problem with the request.
    /// </summary>
    public static (Guid PartnerId, Guid? Distributor, ValidationProblem? Invalid) Whose(CreateRegistrationRequest request, ClaimsPrincipal user)
    {
        if (user.PartnerId() is { } own)
        {
            if (request.PartnerId is { } named && named != own)
            {
                return (default, null, Problems.Validation("partnerId", "A partner key registers for its own partner; leave partnerId out."));
            }
            return request.OnBehalfOf is { } reseller && reseller != own ? (reseller, own, null) : (own, null, null);
        }
        if (request.OnBehalfOf is not null)
        {
            return (default, null, Problems.Validation("onBehalfOf", "onBehalfOf is a distributor's; ops and admin name the partner in partnerId."));
        }
        return request.PartnerId is { } onBehalf
            ? (onBehalf, null, null)
            : (default, null, Problems.Validation("partnerId", "partnerId is required when ops or admin register on behalf of a partner."));
    }

    /// <summary>
    /// A new registration decided in the caller's decision transaction, as every submission is — one sent alone, or a row of
    /// a batch: a distributor's right to register for the partner, the partner's status, the check quota (a partner's caller
    /// draws on it, a distributor on its own), the check and the policy, the distributor on the team, the check logged.
    /// The problem that refuses it, or the registration; and the quota's answer when one was asked. A batch's prediction, which
    /// drew on the quota on its own, does not again (<paramref name="chargeQuota"/> false).
    /// </summary>
    public static async Task<(ProblemHttpResult? Refused, Registration? Registered, QuotaAnswer? Quota)> SubmitAsync(DbSession session,
        RegistrationServices s, ClaimsPrincipal user, Registration proposed, Guid? distributor, HttpResponse? response, CancellationToken ct,
        bool chargeQuota = true)
    {
        // Asked before the partner is read, so the answer is the same whether that partner exists or not.
        if (distributor is { } asking && await PartnerResellers.ActiveAsync(session, asking, proposed.PartnerId, ct) is not { MayRegisterOnBehalf: true })
        {
            return (Problems.Forbidden("This partner may not register deals for that partner."), null, null);
        }
        var partner = await s.Partners.GetAsync(session, proposed.PartnerId, ct);
        if (partner is null) return (Problems.InvalidField("partnerId", "No partner has this id."), null, null);
        if (partner.Status != PartnerStatus.Active)
        {
            return (Problems.Conflict("The partner cannot register deals.", $"The partner is {Json.Name(partner.Status)}."), null, null);
        }

        // A partner's registration asks the conflict check as a pre-check does: it draws on the same quota and is logged with them.
        // A distributor's for its reseller draws on the distributor's.
        var asker = distributor is { } d ? (await s.Partners.GetAsync(session, d, ct))! : partner;
        QuotaAnswer? quota = null;
        if (user.IsPartner() && chargeQuota)
        {
            quota = await s.Checks.QuotaAsync(session, asker.Id, asker.CheckQuota, ct);
            if (!quota.Allowed) return (PartnerPreChecks.Refused(quota, response), null, quota);
        }

        var registered = (await s.Decisions.SubmitAsync(session, null, proposed, partner, Actor.From(user), "registration.created", ct))!;
        if (distributor is not null)
        {
            await RegistrationTeam.AddActiveAsync(session, registered.Id, asker, MemberRole.Distributor, "registered the deal for its reseller",
                s.Clock.GetUtcNow(), ct);
        }
        if (quota is not null)
        {
            await s.Checks.LogAsync(session, asker.Id, user.CallerId(), RegistrationsApi.Asked(PartnerPreChecks.Registration, registered), quota,
                registered.Verdict, registered.Id, ct);
        }
        return (null, registered, quota);
    }

    /// <summary>What a submission decided: a refusal, the earlier answer to its Idempotency-Key, or the new registration.</summary>
    private sealed record Submission(ProblemHttpResult? Problem, StoredResponse? Earlier, Registration? Created)
    {
        public static Decided<Submission> Refused(ProblemHttpResult problem) => Decided<Submission>.Discarded(new(problem, null, null));
    }

    /// <summary>
    /// The first answer to this Idempotency-Key, or 422 when it came with another request. Keys stored
    /// before requests were compared by meaning hold the hash of the body as typed; that still matches.
    /// </summary>
    private static Results<Created<Registration>, ValidationProblem, ProblemHttpResult> Replay(
        StoredResponse earlier, string hash, string hashAsTyped, HttpResponse response)
    {
        if (earlier.RequestHash != hash && earlier.RequestHash != hashAsTyped) return Problems.IdempotencyKeyReused();
        response.Headers[IdempotencyKeys.ReplayedHeader] = "true";
        // The first answer's ETag: a registration answers its creation at version 1, for a partner and the vendor alike.
        response.Headers.ETag = ETags.For(1);
        return TypedResults.Created($"/v1/registrations/{earlier.ResourceId}", JsonSerializer.Deserialize<Registration>(earlier.ResponseBody, Json.Options));
    }

    public static Registration New(Guid id, Guid partnerId, CreateRegistrationRequest r, DateTimeOffset now) => new()
    {
        Id = id,
        PartnerId = partnerId,
        Status = RegistrationStatus.PendingReview,
        Verdict = Verdict.Clear,
        Reason = "awaiting_review",
        Customer = new Customer(r.Customer!.CompanyName!.Trim(), RegistrationsApi.Blank(r.Customer.Domain), r.Customer.Country!.Trim().ToUpperInvariant(),
            RegistrationsApi.Blank(r.Customer.Industry), r.Customer.EmployeeCount) { AlternateNames = RegistrationsApi.Alternates(r.Customer.AlternateNames) },
        Contact = new Contact(r.Contact!.Name!.Trim(), r.Contact.Email!.Trim(), RegistrationsApi.Blank(r.Contact.Title)),
        Deal = new Deal(r.Deal!.Name!.Trim(), (r.Deal.Products ?? []).Select(p => p.Trim()).ToList(), Amounts.Normalised(r.Deal.EstimatedValue!.Value),
            r.Deal.Currency!.Trim().ToUpperInvariant(), r.Deal.ExpectedCloseDate, RegistrationsApi.Blank(r.Deal.Notes)),
        CoSell = new CoSell(r.CoSell?.RelationshipOwner ?? CoSellParty.Partner, r.CoSell?.Demo ?? CoSellParty.Partner,
            r.CoSell?.Contract ?? CoSellParty.Partner),
        CoSelling = false,
        Icp = new IcpResult(true, null),
        PolicyVersion = "",
        ExtensionsGranted = 0,
        SubmittedAt = now,
        CreatedAt = now,
        UpdatedAt = now,
    };
}

/// <summary>Register a deal.</summary>
public sealed record CreateRegistrationRequest
{
    /// <summary>Ops and admin register on behalf of this partner; a partner key leaves it out (or names itself).</summary>
    public Guid? PartnerId { get; init; }

    /// <summary>
    /// A distributor registers for one of its active resellers: the registration is the reseller's, the distributor is its
    /// <c>registeredBy</c> and on its team. For any other partner, existing or not, 403.
    /// </summary>
    public Guid? OnBehalfOf { get; init; }

    [Required]
    public CustomerInput? Customer { get; init; }

    [Required]
    public ContactInput? Contact { get; init; }

    [Required]
    public DealInput? Deal { get; init; }

    public CoSellInput? CoSell { get; init; }
}

public sealed class CreateRegistrationRequestValidator : AbstractValidator<CreateRegistrationRequest>
{
    public CreateRegistrationRequestValidator()
    {
        RuleFor(x => x.Customer).NotNull().SetValidator(new CustomerInputValidator(partial: false)!);
        RuleFor(x => x.Contact).NotNull().SetValidator(new ContactInputValidator(partial: false)!);
        RuleFor(x => x.Deal).NotNull().SetValidator(new DealInputValidator(partial: false)!);
        RuleFor(x => x.Customer).Must((x, customer) => RegistrationRules.WithinWords(customer?.CompanyName, customer?.AlternateNames, x.Deal?.Products))
            .WithMessage(RegistrationRules.TooManyWordsMessage).WithName("customer");
    }
}
