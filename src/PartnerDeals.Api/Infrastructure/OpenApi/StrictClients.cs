using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace PartnerDeals.Api.Infrastructure.OpenApi;

/// <summary>
/// What a strict client or validator needs of the document and Swashbuckle leaves out: answers whose fields are
/// always sent say so (<c>required</c>), a nullable reference is a reference or null (not a reference that must also be
/// null), and every JSON request body carries an example Swagger UI sends as it is.
/// </summary>
internal static class StrictClients
{
    private const string AlwaysSent = "always-sent";

    /// <summary>Notes, on each object's schema, the properties System.Text.Json writes every time (null included).</summary>
    internal sealed class AlwaysSentProperties : ISchemaFilter
    {
        public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
        {
            // A problem document's members are all optional (RFC 9457), and a 400 may be plain or carry errors.
            if (schema is not OpenApiSchema { Properties.Count: > 0 } concrete || !context.Type.IsClass
                || context.Type.IsAssignableTo(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails))) return;
            var written = context.Type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.GetMethod is not null && p.GetIndexParameters().Length == 0
                    && p.GetCustomAttribute<JsonIgnoreAttribute>() is null or { Condition: JsonIgnoreCondition.Never })
                .Select(p => p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(p.Name))
                .Where(concrete.Properties.ContainsKey)
                .ToArray();
            concrete.Metadata ??= new Dictionary<string, object>();
            concrete.Metadata[AlwaysSent] = written;
        }
    }

    internal sealed class StrictShapes : IDocumentFilter
    {
        public void Apply(OpenApiDocument document, DocumentFilterContext context)
        {
            var schemas = document.Components?.Schemas ?? new Dictionary<string, IOpenApiSchema>();
            var operations = (document.Paths ?? [])
                .SelectMany(p => p.Value.Operations ?? new Dictionary<HttpMethod, OpenApiOperation>()).Select(o => o.Value).ToList();
            var sent = Reachable(schemas, operations.SelectMany(o => o.RequestBody?.Content?.Values ?? []).Select(m => m.Schema));
            var answered = Reachable(schemas, operations.SelectMany(o => o.Responses?.Values.AsEnumerable() ?? [])
                .SelectMany(r => r.Content?.Values ?? []).Select(m => m.Schema));

            foreach (var (id, schema) in schemas)
            {
                if (schema is not OpenApiSchema concrete) continue;
                // A schema only ever answered: every field the serializer always writes is there, null or not.
                if (concrete.Metadata?.Remove(AlwaysSent, out var written) == true && answered.Contains(id) && !sent.Contains(id))
                {
                    concrete.Required ??= new SortedSet<string>(StringComparer.Ordinal);
                    foreach (var name in (string[])written) concrete.Required.Add(name);
                }
                foreach (var property in concrete.Properties?.Values ?? []) NullableReference(property);
            }
            foreach (var operation in operations)
            {
                foreach (var media in operation.RequestBody?.Content ?? new Dictionary<string, IOpenApiMediaType>())
                {
                    if (media.Value is OpenApiMediaType { Example: null, Schema: { } body } concrete && media.Key.EndsWith("json", StringComparison.Ordinal))
                    {
                        concrete.Example = Example(body, schemas);
                    }
                }
            }
        }

        /// <summary>
        /// Swashbuckle writes a nullable reference as <c>type: null</c> beside <c>allOf: [reference]</c>, which no value
        /// satisfies; what it means is either the reference or null.
        /// </summary>
        private static void NullableReference(IOpenApiSchema property)
        {
            if (property is OpenApiSchema { Type: JsonSchemaType.Null, AllOf: [var reference] } concrete)
            {
                concrete.Type = null;
                concrete.AllOf = null;
                concrete.AnyOf = [reference, new OpenApiSchema { Type = JsonSchemaType.Null }];
            }
        }

        /// <summary>The ids of the component schemas these schemas lead to.</summary>
        private static HashSet<string> Reachable(IDictionary<string, IOpenApiSchema> schemas, IEnumerable<IOpenApiSchema?> roots)
        {
            var found = new HashSet<string>(StringComparer.Ordinal);
            var pending = new Stack<IOpenApiSchema>(roots.OfType<IOpenApiSchema>());
            while (pending.TryPop(out var schema))
            {
                if (schema is OpenApiSchemaReference { Reference.Id: { } id })
                {
                    if (found.Add(id) && schemas.TryGetValue(id, out var target)) pending.Push(target);
                    continue;
                }
                foreach (var next in Children(schema)) pending.Push(next);
            }
            return found;
        }

        private static IEnumerable<IOpenApiSchema> Children(IOpenApiSchema schema) =>
            (schema.Properties?.Values ?? [])
                .Concat(schema.AllOf ?? []).Concat(schema.AnyOf ?? []).Concat(schema.OneOf ?? [])
                .Concat(new[] { schema.Items, schema.AdditionalProperties }.OfType<IOpenApiSchema>());
    }

    /// <summary>
    /// The body Swagger UI offers: required fields and those with an example, never a placeholder for an optional field
    /// (Swagger UI's own sample fills every field with <c>string</c>, <c>0</c> and a made-up id, which the API refuses).
    /// </summary>
    private static JsonNode? Example(IOpenApiSchema schema, IDictionary<string, IOpenApiSchema> schemas)
    {
        if (Given(schema) is { } given) return given.DeepClone();
        if (schema is OpenApiSchemaReference { Reference.Id: { } id }) return schemas.TryGetValue(id, out var target) ? Example(target, schemas) : null;
        if (schema.AllOf is [var only]) return Example(only, schemas);
        if (schema.AnyOf is [var first, ..]) return Example(first, schemas);
        if (schema.Enum is [var value, ..]) return value?.DeepClone();
        if (schema.Properties is { Count: > 0 } properties)
        {
            var example = new JsonObject();
            foreach (var (name, property) in properties)
            {
                var required = schema.Required?.Contains(name) == true;
                if (required || Given(property) is not null) example[name] = Example(property, schemas);
            }
            return example;
        }
        var type = schema.Type ?? 0;
        if (type.HasFlag(JsonSchemaType.Array)) return schema.Items is { } items ? new JsonArray(Example(items, schemas)) : new JsonArray();
        if (type.HasFlag(JsonSchemaType.Integer) || type.HasFlag(JsonSchemaType.Number)) return JsonValue.Create(0);
        if (type.HasFlag(JsonSchemaType.Boolean)) return JsonValue.Create(false);
        return JsonValue.Create("string");
    }

    // Swashbuckle writes an XML comment's <example> to the 3.0 keyword, which 3.1 keeps (deprecated) beside "examples".
#pragma warning disable CS0618
    private static JsonNode? Given(IOpenApiSchema schema) => schema.Examples?.FirstOrDefault() ?? schema.Example;
#pragma warning restore CS0618
}
