using System.Text.Json.Nodes;
using DbUp;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using PartnerDeals.Api.Features.Outbox;
using PartnerDeals.Api.Features.Sync;
using PartnerDeals.Api.Features.Webhooks;
using PartnerDeals.Api.Infrastructure.Data;
using PartnerDeals.IntegrationTests.Support;

namespace PartnerDeals.IntegrationTests.Storage;

/// <summary>
/// A database with the two delivery engines' tables (migrations up to 0018) upgrades to the one outbox with every row: the
/// CRM's and the webhooks' deliveries, undelivered, leased or done, with their attempts, still shown and still sent.
/// </summary>
public sealed class OutboxMigrationTests
{
    private const string Partner = "01a30000-0000-7000-8000-000000000001";
    private const string Webhook = "01a30000-0000-7000-8000-000000000002";
    private const string Registration = "01a30000-0000-7000-8000-000000000003";
    private const string CrmEvent = "01a30000-0000-7000-8000-000000000010";
    private const string PendingToCrm = "01a30000-0000-7000-8000-000000000011";
    private const string DeliveredToCrm = "01a30000-0000-7000-8000-000000000012";
    private const string PartnerEvent = "01a30000-0000-7000-8000-000000000020";
    private const string PendingToWebhook = "01a30000-0000-7000-8000-000000000021";
    private const string CrmPayload = """{"action":"registration.approved","registration":{"id":"01a30000-0000-7000-8000-000000000003"}}""";
    private const string WebhookPayload = """{"type":"registration.approved","data":{"id":"01a30000-0000-7000-8000-000000000003"}}""";

    [Test]
    public async Task Upgrade_MovesEveryDeliveryOfBothEngines_AndTheUndeliveredAreStillSent()
    {
        var path = Path.Combine(Path.GetTempPath(), "partnerdeals-tests", Guid.NewGuid().ToString("N"), "upgrade.db");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var connectionString = $"Data Source={path}";
        var before = DeployChanges.To.SqliteDatabase(connectionString)
            .WithScriptsEmbeddedInAssembly(typeof(Migrator).Assembly,
                name => name.Contains(".Migrations.Sqlite.", StringComparison.Ordinal) && string.CompareOrdinal(name[(name.IndexOf(".Sqlite.", StringComparison.Ordinal) + 8)..], "0019") < 0)
            .WithTransactionPerScript().LogToNowhere().Build().PerformUpgrade();
        before.Successful.ShouldBeTrue(before.Error?.ToString());
        await using (var old = new SqliteConnection(connectionString + ";Foreign Keys=False"))
        {
            await old.OpenAsync();
            await using var insert = old.CreateCommand();
            // Only the outbox matters here, so the endpoint has no partner row. A pending CRM delivery whose lease ran out after
            // two failures, one delivered; a pending webhook delivery to an endpoint that is off (so it waits), after one attempt.
            insert.CommandText = $"""
                INSERT INTO outbox (id, registration_id, event_type, payload, occurred_at)
                VALUES ('{CrmEvent}', '{Registration}', 'registration.approved', '{CrmPayload}', '2026-11-01 00:00:00+00:00');
                INSERT INTO deliveries (id, outbox_id, registration_id, registration_version, crm, event_type, status, attempts, next_attempt_at,
                    locked_until, lease_id, last_status_code, last_error, created_at, updated_at, delivered_at)
                VALUES ('{PendingToCrm}', '{CrmEvent}', '{Registration}', 2, 'salesforce', 'registration.approved', 'pending', 2, '2026-11-01 00:05:00+00:00',
                        '2026-11-01 00:06:00+00:00', '01a30000-0000-7000-8000-0000000000ff', 503, 'Service Unavailable', '2026-11-01 00:00:00+00:00',
                        '2026-11-01 00:04:00+00:00', NULL),
                       ('{DeliveredToCrm}', '{CrmEvent}', '{Registration}', 2, 'hubspot', 'registration.approved', 'delivered', 1, '2026-11-01 00:00:01+00:00',
                        NULL, NULL, 200, NULL, '2026-11-01 00:00:00+00:00', '2026-11-01 00:00:01+00:00', '2026-11-01 00:00:01+00:00');
                INSERT INTO delivery_attempts (id, delivery_id, outcome, status_code, error, started_at, duration_ms)
                VALUES ('01a30000-0000-7000-8000-000000000013', '{PendingToCrm}', 'failed', 503, 'Service Unavailable', '2026-11-01 00:01:00+00:00', 40),
                       ('01a30000-0000-7000-8000-000000000014', '{PendingToCrm}', 'failed', 503, 'Service Unavailable', '2026-11-01 00:03:00+00:00', 41),
                       ('01a30000-0000-7000-8000-000000000015', '{DeliveredToCrm}', 'delivered', 200, NULL, '2026-11-01 00:00:01+00:00', 12);
                INSERT INTO webhook_subscriptions (id, partner_id, url, events, description, enabled, disabled_reason, disabled_at, secret, version, created_at, updated_at)
                VALUES ('{Webhook}', '{Partner}', 'https://receiver.example/hooks', '["*"]', NULL, 0, 'failing', '2026-11-01 00:10:00+00:00', 'protected', 2,
                        '2026-10-01 00:00:00+00:00', '2026-11-01 00:10:00+00:00');
                INSERT INTO webhook_events (id, partner_id, registration_id, event_type, payload, occurred_at, notice_key)
                VALUES ('{PartnerEvent}', '{Partner}', '{Registration}', 'registration.approved', '{WebhookPayload}', '2026-11-01 00:00:00+00:00', NULL);
                INSERT INTO webhook_deliveries (id, event_id, subscription_id, registration_id, event_type, status, attempts, next_attempt_at, locked_until,
                    lease_id, last_status_code, last_error, created_at, updated_at, delivered_at)
                VALUES ('{PendingToWebhook}', '{PartnerEvent}', '{Webhook}', '{Registration}', 'registration.approved', 'pending', 1,
                        '2026-11-01 00:00:10+00:00', NULL, NULL, 500, 'busy', '2026-11-01 00:00:00+00:00', '2026-11-01 00:00:05+00:00', NULL);
                INSERT INTO webhook_attempts (id, delivery_id, outcome, status_code, error, response, started_at, latency_ms)
                VALUES ('01a30000-0000-7000-8000-000000000022', '{PendingToWebhook}', 'failed', 500, NULL, 'busy', '2026-11-01 00:00:04+00:00', 1234);
                """;
            await insert.ExecuteNonQueryAsync();
        }

        using var factory = new ApiFactory(databasePath: path);
        using var admin = factory.Client(ApiFactory.AdminKey);

        var pending = JsonNode.Parse(await admin.GetStringAsync($"/v1/sync/deliveries/{PendingToCrm}"))!;
        pending.Get<string>("crm").ShouldBe("salesforce");
        pending.Get<string>("status").ShouldBe("pending");
        pending.Get<int>("attempts").ShouldBe(2);
        pending.Get<string>("lastError").ShouldBe("Service Unavailable");
        pending["attemptLog"]!.AsArray().Select(a => a!.Get<int>("durationMs")).ShouldBe([40, 41]);
        JsonNode.Parse(await admin.GetStringAsync($"/v1/sync/deliveries/{DeliveredToCrm}"))!.Get<string>("status").ShouldBe("delivered");

        var log = JsonNode.Parse(await admin.GetStringAsync($"/v1/partners/{Partner}/webhooks/{Webhook}/deliveries"))!["items"]!.AsArray();
        var webhook = log.ShouldHaveSingleItem()!;
        webhook.Get<string>("id").ShouldBe(PendingToWebhook);
        webhook.Get<string>("status").ShouldBe("pending");
        webhook.Get<string>("messageId").ShouldBe(WebhookSigning.MessageId(Guid.Parse(PartnerEvent)), "a receiver that kept the id still tells a repeat");
        var attempt = webhook["attemptLog"]!.AsArray().ShouldHaveSingleItem()!;
        (attempt.Get<int>("latencyMs"), attempt.Get<string>("response")).ShouldBe((1234, "busy"));

        // Still sent: each is due to its destination, with the payload it was queued with.
        var database = factory.Services.GetRequiredService<Database>();
        var store = factory.Services.GetRequiredService<OutboxStore>();
        var now = DateTimeOffset.Parse("2026-11-02T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await using var session = await database.BeginWriteAsync(connection, CancellationToken.None);
        var toCrm = await store.LeaseAsync(session, new Destination(CrmSender.ChannelName, Crms.Salesforce), 10, now, TimeSpan.FromMinutes(1), CancellationToken.None);
        toCrm.ShouldHaveSingleItem().Payload.ShouldBe(CrmPayload);
        var toWebhook = await store.LeaseAsync(session, WebhookSender.To(Guid.Parse(Webhook), Guid.Parse(Partner)), 10, now, TimeSpan.FromMinutes(1),
            CancellationToken.None);
        toWebhook.ShouldHaveSingleItem().Payload.ShouldBe(WebhookPayload);
        await session.RollbackAsync();
        factory.DeleteDatabase();
    }
}
