using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using PartnerDeals.Api.Infrastructure.Auth;
using PartnerDeals.Api.Infrastructure.Http;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace PartnerDeals.Api.Infrastructure.OpenApi;

public static class OpenApiSetup
{
    public const string DocumentName = "v1";
    public const string DocumentPath = "/swagger/v1/swagger.json";

    public static IServiceCollection AddOpenApiDocument(this IServiceCollection services, IConfiguration config)
    {
        var signIn = SwaggerSignIn(config);
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc(DocumentName, new OpenApiInfo
            {
                Title = "PartnerDeals API",
                Version = "v1",
                Description = "Deal registration and channel-conflict decisions for B2B partner programs. "
                    + "Authenticate with an API key in the X-Api-Key header, or as a person with a bearer token of a configured "
                    + "OpenID Connect issuer (press Authorize). "
                    + "Errors are RFC 9457 problem documents (application/problem+json) with a stable `type`.",
                Contact = new OpenApiContact { Name = "PartnerDeals engineering" },
            });
            options.AddSecurityDefinition(ApiKeyAuthentication.SchemeName, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeyAuthentication.Header,
                Description = "An API key issued by PartnerDeals (roles admin, ops, crm, partner).",
            });
            if (signIn is var (name, issuer))
            {
                // Swagger UI reads the issuer's discovery document and signs the person in with the authorization code flow and PKCE.
                options.AddSecurityDefinition(SignInScheme, new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.OpenIdConnect,
                    OpenIdConnectUrl = new Uri(issuer.Authority.TrimEnd('/') + "/.well-known/openid-configuration"),
                    Description = $"Sign in as a person through the {name} issuer (authorization code with PKCE; public client, no secret).",
                });
            }
            options.OperationFilter<StandardResponses>(signIn is not null);
            options.DocumentFilter<TagsAndProblems>();
            options.SchemaFilter<StrictClients.AlwaysSentProperties>();
            options.DocumentFilter<StrictClients.StrictShapes>();
            options.SupportNonNullableReferenceTypes();
            options.UseAllOfToExtendReferenceSchemas();
            var xml = Path.Combine(AppContext.BaseDirectory, "PartnerDeals.Api.xml");
            if (File.Exists(xml)) options.IncludeXmlComments(xml);
        });
        return services;
    }

    /// <summary>
    /// Serves the document as OpenAPI 3.1 (its schemas are JSON Schema 2020-12, so a nullable field is plainly nullable)
    /// and Swagger UI. The server is the absolute address the document was read from: a client generated from it has a
    /// base address, and Swagger UI calls whichever host served it.
    /// </summary>
    public static WebApplication UseOpenApiDocument(this WebApplication app)
    {
        var signIn = SwaggerSignIn(app.Configuration);
        app.UseSwagger(options =>
        {
            options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
            options.PreSerializeFilters.Add((document, request) =>
                document.Servers = [new OpenApiServer { Url = $"{request.Scheme}://{request.Host}{request.PathBase}", Description = "This service" }]);
        });
        app.UseSwaggerUI(ui =>
        {
            ui.SwaggerEndpoint(DocumentPath, "PartnerDeals API v1");
            ui.DocumentTitle = "PartnerDeals API";
            ui.EnablePersistAuthorization();
            if (signIn is var (_, issuer))
            {
                ui.OAuthClientId(issuer.SwaggerClientId);
                ui.OAuthUsePkce();
                ui.OAuthScopes([.. issuer.SwaggerScopes]);
            }
        });
        return app;
    }

    /// <summary>The security scheme of a person's sign-in in the document, beside the API key's.</summary>
    public const string SignInScheme = "SignIn";

    /// <summary>The first issuer with a Swagger UI client: Swagger UI has one OAuth client.</summary>
    private static (string Name, OidcIssuer Issuer)? SwaggerSignIn(IConfiguration config) =>
        config.GetSection(OidcOptions.Section).Get<OidcOptions>()?.Issuers.Where(i => !string.IsNullOrEmpty(i.Value.SwaggerClientId))
            .Select(i => ((string, OidcIssuer)?)(i.Key, i.Value)).FirstOrDefault();

    /// <summary>What each tag groups, and every problem type with its status and meaning, in the document itself.</summary>
    private sealed class TagsAndProblems : IDocumentFilter
    {
        private static readonly Dictionary<string, string> Tags = new()
        {
            ["Partners"] = "The program's partners: their tiers, commercial terms, own check quota, and audit trail.",
            ["API keys"] = "Keys for partners' portals, CRM integrations and the channel team; each with one role, shown once.",
            ["People"] = "People who sign in through an OpenID Connect issuer: who is calling, disabling a person, and partner sign-in links.",
            ["Direct pipeline"] = "The vendor's own opportunities, by upsert, batch or CSV import: what every conflict check is checked against.",
            ["Conflict checks"] = "Would this company collide? Vendor keys see every candidate; a partner only whether the account is available.",
            ["Registrations"] = "Deals partners register: the check and the policy on submit, ops decisions, protection, outcomes, notes.",
            ["Conflicts"] = "Registrations that matched a claim or the pipeline, with every candidate and signal, and their resolution.",
            ["CRM sync"] = "Registrations written to Salesforce, HubSpot and Dynamics 365, and the CRMs' pipelines read back.",
            ["Webhooks"] = "Signed events to a partner's own endpoints, with their delivery log, tests and replays.",
            ["Product lines"] = "The product lines conflicts may be scoped by.",
            ["Fees"] = "What partners earned, when it falls due, and when it was paid.",
            ["Metrics"] = "Partner metrics, the leaderboard and the program's health.",
        };

        public void Apply(OpenApiDocument document, DocumentFilterContext context)
        {
            document.Tags = new HashSet<OpenApiTag>(Tags.Select(t => new OpenApiTag { Name = t.Key, Description = t.Value }));
            document.Info.Description += "\n\n| problem `type` | status | when |\n|---|---|---|\n"
                + string.Concat(Errors.ProblemTypes.All.Select(p => $"| `{p.Type}` | {p.Status} | {p.When} |\n"));
        }
    }

    /// <summary>
    /// The responses every operation can give, added once here instead of on each endpoint:
    /// 401/403/429 where a key is required, 400/413/415 where a body is read, 500 and 503 everywhere.
    /// </summary>
    /// <param name="signIn">Whether people sign in here too (<see cref="SignInScheme"/>), as an alternative to the key.</param>
    private sealed class StandardResponses(bool signIn) : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
            operation.Responses ??= new OpenApiResponses();

            if (metadata.OfType<IAuthorizeData>().Any())
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement
                {
                    [new OpenApiSecuritySchemeReference(ApiKeyAuthentication.SchemeName, context.Document)] = [],
                });
                if (signIn)
                {
                    operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SignInScheme, context.Document)] = [] });
                }
                Add(operation, context, "401", "No API key or bearer token, or one that is not valid (revoked, expired, for another audience).");
                Add(operation, context, "403", "The caller's role may not call this endpoint, or the person is disabled or has no role here.");
                Add(operation, context, "429", "Too many requests for this key; wait for the Retry-After header's seconds.");
            }

            if (context.ApiDescription.ParameterDescriptions.Any(p => p.Source.Id == "Body"))
            {
                Add(operation, context, "400", "The body is not valid JSON, has a value of the wrong type, or has an unknown field.");
                Add(operation, context, "413", "The body is larger than the configured limit.");
                Add(operation, context, "415", "The body is not application/json.");
            }
            else if (context.ApiDescription.ParameterDescriptions.Any(p => p.Source.Id == "Query"))
            {
                Add(operation, context, "400", "A query parameter is malformed or out of range.");
            }
            if (metadata.OfType<IAuthorizeData>().Any())
            {
                Add(operation, context, "400", "Both an API key and a bearer token were sent, or X-Acting-User is not one line of at most 200 characters.");
            }

            Add(operation, context, "500", "An unexpected error; the problem document carries a traceId to quote.");
            Add(operation, context, "503", "The database stayed locked, or too many decisions are waiting: nothing changed; retry after Retry-After.");

            if (metadata.OfType<ETags.Documented>().FirstOrDefault() is { } etag) DocumentETag(operation, etag);
            // A CSV body is text, not the word "string": offer two rows Swagger UI can send as they are.
            if (operation.RequestBody is OpenApiRequestBody { Content: { } content } && content.TryGetValue(CsvResult.MediaType, out var csv)
                && csv is OpenApiMediaType csvBody)
            {
                csvBody.Example = System.Text.Json.Nodes.JsonValue.Create(operation.OperationId == "CreateRegistrationBatch"
                    ? Features.RegistrationBatches.BatchFile.Template
                    : "source,externalId,accountName,accountDomain,country,status,amount,currency\n"
                        + "hubspot,9001,Litware Inc.,litware.example,US,open,48000,USD\n"
                        + "hubspot,9002,Adventure Works Ltd,adventure-works.example,GB,won,125000,GBP\n");
            }
            // A query parameter the handler checks itself (for a clearer problem than the binder's) is still required.
            foreach (var parameter in context.ApiDescription.ParameterDescriptions)
            {
                if (parameter.ParameterDescriptor is Microsoft.AspNetCore.Mvc.Infrastructure.IParameterInfoParameterDescriptor { ParameterInfo: var info }
                    && info.GetCustomAttributes(typeof(System.ComponentModel.DataAnnotations.RequiredAttribute), false).Length > 0
                    && operation.Parameters?.FirstOrDefault(p => p.Name == parameter.Name) is OpenApiParameter documented)
                {
                    documented.Required = true;
                }
            }
            foreach (var filter in metadata.OfType<Paging.FilterValues>())
            {
                if (operation.Parameters?.FirstOrDefault(p => p.Name == filter.Parameter) is OpenApiParameter { Schema: OpenApiSchema schema })
                {
                    schema.Enum = filter.Values.Select(v => (System.Text.Json.Nodes.JsonNode)System.Text.Json.Nodes.JsonValue.Create(v)).ToList();
                }
            }
            if (operation.Parameters?.Any(p => p.Name == IdempotencyKeys.Header) == true && operation.Responses!.TryGetValue("201", out var created)
                && created is OpenApiResponse first)
            {
                first.Headers ??= new Dictionary<string, IOpenApiHeader>();
                first.Headers[IdempotencyKeys.ReplayedHeader] = new OpenApiHeader
                {
                    Description = "`true` when this is the stored answer to an earlier request with the same Idempotency-Key (nothing new was created).",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [System.Text.Json.Nodes.JsonValue.Create("true")] },
                };
            }
            if (metadata.OfType<CsvResult.Documented>().Any() && operation.Responses.TryGetValue("200", out var ok) && ok is OpenApiResponse list)
            {
                list.Content ??= new Dictionary<string, IOpenApiMediaType>();
                list.Content[CsvResult.MediaType] = new OpenApiMediaType
                {
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = "A header row, then one row per item (RFC 4180)." },
                };
            }
        }

        private static void DocumentETag(OpenApiOperation operation, ETags.Documented etag)
        {
            foreach (var (status, response) in operation.Responses!)
            {
                if (status is "200" or "201" && response is OpenApiResponse concrete)
                {
                    concrete.Headers ??= new Dictionary<string, IOpenApiHeader>();
                    concrete.Headers["ETag"] = new OpenApiHeader
                    {
                        Description = "The version of the resource; send it in If-Match to change it.",
                        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                    };
                }
            }
            if (!etag.RequiresIfMatch) return;
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = "If-Match",
                In = ParameterLocation.Header,
                Required = true,
                Description = "The ETag of your last read (or * to overwrite whatever is there). Missing: 428. Stale: 412.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
            operation.Responses!["412"].Description = "The resource changed since the ETag in If-Match was read.";
            operation.Responses["428"].Description = "If-Match is missing.";
        }

        private static void Add(OpenApiOperation operation, OperationFilterContext context, string status, string description)
        {
            if (operation.Responses!.ContainsKey(status)) return;
            var schema = context.SchemaGenerator.GenerateSchema(typeof(ProblemDetails), context.SchemaRepository);
            operation.Responses[status] = new OpenApiResponse
            {
                Description = description,
                Content = new Dictionary<string, IOpenApiMediaType>
                {
                    ["application/problem+json"] = new OpenApiMediaType { Schema = schema },
                },
            };
        }
    }
}
