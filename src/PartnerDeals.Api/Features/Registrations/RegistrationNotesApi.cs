using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.Api.Infrastructure.Http;
using static PartnerDeals.Api.Features.Registrations.RegistrationsApi;

namespace PartnerDeals.Api.Features.Registrations;

/// <summary>
/// The thread between the partner and the channel team on a deal. Ops may mark a note internal;
/// internal notes never reach a partner key.
/// </summary>
public static class RegistrationNotesApi
{
    private const string InsertSql = """
        INSERT INTO registration_notes (id, registration_id, author_key_id, author_person_id, author_role, internal, body, created_at)
        VALUES (@Id, @RegistrationId, @AuthorKeyId, @AuthorPersonId, @AuthorRole, @Internal, @Body, @CreatedAt)
        """;

    private const string ListSql = """
        SELECT id, registration_id, author_role, internal, body, created_at
        FROM registration_notes
        WHERE registration_id = @RegistrationId AND (@IncludeInternal = 1 OR internal = 0) AND (@After IS NULL OR id > @After)
        ORDER BY id
        """;

    public static void MapRegistrationNotes(this RouteGroupBuilder registrations)
    {
        registrations.MapPost("/{id:guid}/notes", Add)
            .WithName("AddRegistrationNote")
            .WithSummary("Add a note to the deal's thread")
            .WithDescription("The partner on its own registrations, and the channel team (ops, admin). Only ops and admin may mark a note internal.")
            .RequireAuthorization(Policies.Registrant)
            .WithValidation<NoteRequest>()
            .ProducesProblem(StatusCodes.Status404NotFound);

        registrations.MapGet("/{id:guid}/notes", List)
            .WithName("ListRegistrationNotes")
            .WithSummary("Read the deal's thread")
            .WithDescription("Any key, oldest first; a partner sees only its own registrations and never an internal note.")
            .RequireAuthorization(Policies.AnyKey)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<Results<Created<Note>, ValidationProblem, ProblemHttpResult>> Add(
        Guid id, NoteRequest request, ClaimsPrincipal user, [AsParameters] RegistrationServices s, RegistrationJournal journal, CancellationToken ct)
    {
        if (request.Internal == true && user.IsPartner()) return Problems.Validation("internal", "Only the channel team may write internal notes.");
        var registration = await s.Registrations.GetAsync(id, ct);
        if (registration is null || !user.CanSeePartner(registration.PartnerId)) return NotFound();

        var now = s.Clock.GetUtcNow();
        var note = new Note(Ids.New(now), id, Json.Name(user.Role()), request.Internal == true, request.Body!.Trim(), now);
        await using var connection = await s.Database.OpenAsync(ct);
        await using var session = await s.Database.BeginWriteAsync(connection, ct);
        await session.ExecuteAsync(InsertSql, new
        {
            note.Id,
            note.RegistrationId,
            AuthorKeyId = user.KeyId(),
            AuthorPersonId = user.PersonId(),
            note.AuthorRole,
            note.Internal,
            note.Body,
            note.CreatedAt,
        }, ct);
        // An internal note is the channel team's alone: no partner key reads it, and no webhook carries it.
        if (!note.Internal) await journal.TellFollowersOfNoteAsync(session, registration, note, now, ct);
        await session.CommitAsync(ct);
        return TypedResults.Created($"/v1/registrations/{id}/notes", note);
    }

    /// <param name="id">The registration's id.</param>
    /// <param name="user">The caller.</param>
    /// <param name="s">Services.</param>
    /// <param name="ct">Cancellation.</param>
    /// <param name="page">The page asked for.</param>
    private static async Task<Results<Ok<Page<Note>>, ValidationProblem, ProblemHttpResult>> List(
        Guid id, ClaimsPrincipal user, [AsParameters] RegistrationServices s, CancellationToken ct, [AsParameters] PageRequest page = default)
    {
        if (!page.TryRead(out var pageSize, out var after, out var errors)) return Problems.Validation(errors);
        var registration = await s.Registrations.GetAsync(id, ct);
        if (registration is null || !user.CanSeePartner(registration.PartnerId)) return NotFound();

        var rows = (await s.Database.ReadAsync(read => read.QueryAsync<Row>(s.Database.Dialect.Page(ListSql), new
        {
            RegistrationId = id,
            IncludeInternal = user.IsPartner() ? 0 : 1,
            After = after,
            Limit = pageSize + 1,
        }, ct), ct)).AsList();
        return TypedResults.Ok(Paging.ToPage(rows, pageSize, r => r.Id, r => new Note(r.Id, r.RegistrationId, r.AuthorRole, r.Internal, r.Body, r.CreatedAt)));
    }

    private sealed class Row
    {
        public Guid Id { get; set; }
        public Guid RegistrationId { get; set; }
        public string AuthorRole { get; set; } = "";
        public bool Internal { get; set; }
        public string Body { get; set; } = "";
        public DateTimeOffset CreatedAt { get; set; }
    }
}
