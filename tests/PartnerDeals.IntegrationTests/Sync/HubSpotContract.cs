using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace PartnerDeals.IntegrationTests.Sync;

/// <summary>
/// The shapes HubSpot publishes for the requests the pipeline pull and a deal team's sync send, written here as JSON Schemas from the facts its
/// OpenAPI documents state (HubSpot/HubSpot-public-api-spec-collection, OpenAPI 3.0.1; the files themselves are proprietary
/// and not copied): field names, types and required lists. A stub that accepts a request these refuse is a bug in the test.
/// </summary>
public static class HubSpotContract
{
    /// <summary>
    /// <c>PublicObjectSearchRequest</c> (CRM Deals v3, <c>POST /crm/v3/objects/0-3/search</c>): required <c>after</c> (string, "a
    /// paging cursor token"), <c>filterGroups</c>, <c>limit</c> (integer, up to 200), <c>properties</c> and <c>sorts</c>, whose
    /// items are strings; <c>FilterGroup</c> requires <c>filters</c>; <c>Filter</c> requires <c>operator</c> (one of thirteen)
    /// and <c>propertyName</c>, with <c>value</c> a string and <c>values</c> strings.
    /// </summary>
    public static readonly JsonSchema DealSearch = JsonSchema.FromText("""
        {
          "type": "object",
          "required": ["after", "filterGroups", "limit", "properties", "sorts"],
          "properties": {
            "after": { "type": "string" },
            "limit": { "type": "integer", "maximum": 200 },
            "query": { "type": "string" },
            "properties": { "type": "array", "items": { "type": "string" } },
            "sorts": { "type": "array", "items": { "type": "string" } },
            "filterGroups": {
              "type": "array", "maxItems": 6,
              "items": {
                "type": "object", "required": ["filters"],
                "properties": {
                  "filters": {
                    "type": "array",
                    "items": {
                      "type": "object", "required": ["operator", "propertyName"],
                      "properties": {
                        "operator": { "enum": ["BETWEEN", "CONTAINS_TOKEN", "EQ", "GT", "GTE", "HAS_PROPERTY", "IN", "LT", "LTE", "NEQ",
                          "NOT_CONTAINS_TOKEN", "NOT_HAS_PROPERTY", "NOT_IN"] },
                        "propertyName": { "type": "string" },
                        "value": { "type": "string" },
                        "highValue": { "type": "string" },
                        "values": { "type": "array", "items": { "type": "string" } }
                      }
                    }
                  }
                }
              }
            }
          }
        }
        """);

    /// <summary>
    /// <c>BatchReadInputSimplePublicObjectId</c> (Companies and Deals v3, <c>POST /crm/v3/objects/{type}/batch/read</c>): required
    /// <c>inputs</c> (each <c>SimplePublicObjectId</c>, required <c>id</c>, a string), <c>properties</c> and
    /// <c>propertiesWithHistory</c> (strings; an empty list is valid); <c>idProperty</c> optional.
    /// </summary>
    public static readonly JsonSchema ObjectsBatchRead = JsonSchema.FromText("""
        {
          "type": "object",
          "required": ["inputs", "properties", "propertiesWithHistory"],
          "properties": {
            "idProperty": { "type": "string" },
            "inputs": { "type": "array", "items": { "type": "object", "required": ["id"], "properties": { "id": { "type": "string" } } } },
            "properties": { "type": "array", "items": { "type": "string" } },
            "propertiesWithHistory": { "type": "array", "items": { "type": "string" } }
          }
        }
        """);

    /// <summary>
    /// <c>BatchInputPublicFetchAssociationsBatchRequest</c> (Associations v4, <c>POST /crm/v4/associations/{from}/{to}/batch/read</c>):
    /// required <c>inputs</c>, each <c>PublicFetchAssociationsBatchRequest</c> with a required <c>id</c> and an optional <c>after</c>, strings.
    /// </summary>
    public static readonly JsonSchema AssociationsBatchRead = JsonSchema.FromText("""
        {
          "type": "object",
          "required": ["inputs"],
          "properties": {
            "inputs": { "type": "array", "items": { "type": "object", "required": ["id"],
              "properties": { "id": { "type": "string" }, "after": { "type": "string" } } } }
          }
        }
        """);

    /// <summary>
    /// <c>BatchInputPublicAssociationMultiPost</c> (Associations v4, <c>POST /crm/v4/associations/{from}/{to}/batch/create</c> and
    /// <c>…/batch/labels/archive</c>): required <c>inputs</c>, each with required <c>from</c> and <c>to</c> (<c>PublicObjectId</c>: a
    /// required string <c>id</c>) and <c>types</c>, each <c>AssociationSpec</c> with a required <c>associationCategory</c>
    /// (HUBSPOT_DEFINED, USER_DEFINED or INTEGRATOR_DEFINED) and <c>associationTypeId</c> (an integer).
    /// </summary>
    public static readonly JsonSchema AssociationsMultiPost = JsonSchema.FromText("""
        {
          "type": "object",
          "required": ["inputs"],
          "$defs": { "id": { "type": "object", "required": ["id"], "properties": { "id": { "type": "string" } } } },
          "properties": {
            "inputs": { "type": "array", "items": { "type": "object", "required": ["from", "to", "types"],
              "properties": {
                "from": { "$ref": "#/$defs/id" },
                "to": { "$ref": "#/$defs/id" },
                "types": { "type": "array", "items": { "type": "object", "required": ["associationCategory", "associationTypeId"],
                  "properties": {
                    "associationCategory": { "enum": ["HUBSPOT_DEFINED", "USER_DEFINED", "INTEGRATOR_DEFINED"] },
                    "associationTypeId": { "type": "integer" }
                  } } }
              } } }
          }
        }
        """);

    /// <summary>
    /// <c>BatchInputPublicAssociationMultiArchive</c> (Associations v4, <c>POST /crm/v4/associations/{from}/{to}/batch/archive</c>):
    /// required <c>inputs</c>, each with a required <c>from</c> (<c>PublicObjectId</c>) and <c>to</c>, a list of them.
    /// </summary>
    public static readonly JsonSchema AssociationsMultiArchive = JsonSchema.FromText("""
        {
          "type": "object",
          "required": ["inputs"],
          "$defs": { "id": { "type": "object", "required": ["id"], "properties": { "id": { "type": "string" } } } },
          "properties": {
            "inputs": { "type": "array", "items": { "type": "object", "required": ["from", "to"],
              "properties": { "from": { "$ref": "#/$defs/id" }, "to": { "type": "array", "items": { "$ref": "#/$defs/id" } } } } }
          }
        }
        """);

    /// <summary>Why a request body breaks <paramref name="schema"/>; empty when it holds.</summary>
    public static IReadOnlyList<string> Violations(JsonSchema schema, string body)
    {
        var result = schema.Evaluate(JsonNode.Parse(body), new EvaluationOptions { OutputFormat = OutputFormat.List });
        return result.IsValid ? [] : result.Details.Where(d => d.HasErrors).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")).ToList();
    }

    /// <summary>A 400 as HubSpot answers an invalid request (its <c>Error</c> schema: category, correlationId, message).</summary>
    public static string Invalid(IEnumerable<string> violations) => JsonSerializer.Serialize(new
    {
        status = "error", category = "VALIDATION_ERROR", correlationId = Guid.NewGuid(), message = "Invalid input JSON: " + string.Join("; ", violations),
    });
}
