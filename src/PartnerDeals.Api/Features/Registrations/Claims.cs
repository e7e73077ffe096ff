namespace PartnerDeals.Api.Features.Registrations;

/// <summary>
/// A claim on an account: a registration that holds it (approved) or waits for it (pending_review, more_info_requested).
/// A claim blocks later registrations of the same company; when it stops being one, those waiting behind it are decided
/// again. Defined here once, for the code and, as <see cref="StatusList"/>, for the stores' SQL.
/// </summary>
public static class Claims
{
    public static readonly IReadOnlyList<RegistrationStatus> Statuses =
        [RegistrationStatus.PendingReview, RegistrationStatus.MoreInfoRequested, RegistrationStatus.Approved];

    /// <summary><see cref="Statuses"/> as SQL literals for an <c>IN</c> list (a unit test holds the two together).</summary>
    public const string StatusList = "'pending_review', 'more_info_requested', 'approved'";

    public static bool IsClaim(RegistrationStatus status) => Statuses.Contains(status);
}
