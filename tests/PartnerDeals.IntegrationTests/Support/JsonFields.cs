using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Nodes;

namespace PartnerDeals.IntegrationTests.Support;

/// <summary>Reads one field of a JSON answer: <c>body.Get&lt;string&gt;("status")</c>, failing with the field's name and the answer when it is absent.</summary>
public static class JsonFields
{
    public static T Get<T>([NotNull] this JsonNode? node, string name) =>
        node?[name] is { } value ? value.GetValue<T>() : throw new AssertionException($"The answer has no \"{name}\": {node?.ToJsonString() ?? "null"}");
}
