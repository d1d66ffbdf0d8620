using System.Text.Json;
using System.Text.Json.Nodes;

namespace Arca.Tests.Migration;

/// <summary>
/// A small, strict parser of the AQL items query shape the Artifactory EMULATOR answers (JFrog "Artifactory Query
/// Language"): <c>items.find(&lt;criteria&gt;)[.include("f",…)][.sort({"$asc"|"$desc":["f",…]})][.offset(n)][.limit(n)]</c>.
/// Criteria are a JSON object of <c>"repo"</c> (required) and <c>"type"</c>, each a string or <c>{"$eq":string}</c>;
/// anything else is a <see cref="FormatException"/> (the emulator answers 400 like Artifactory's parser).
/// </summary>
internal static class ArtifactoryAql
{
    public sealed record Query(string Repo, string? Type, IReadOnlyList<string> Include, IReadOnlyList<string> SortAscending, int? Offset, int? Limit);

    private static readonly HashSet<string> SortableFields = ["path", "name", "repo", "size"];

    public static Query Parse(string text)
    {
        var p = new Cursor(text);
        p.Expect("items");
        p.Expect(".");
        p.Expect("find");
        p.Expect("(");
        if (JsonNode.Parse(p.JsonValue()) is not JsonObject criteria) throw new FormatException("find() takes a JSON object");
        p.Expect(")");
        string? repo = null, type = null;
        foreach (var (key, value) in criteria)
        {
            var literal = value switch
            {
                JsonValue v when v.TryGetValue<string>(out var s) => s,
                JsonObject { Count: 1 } o when o["$eq"] is JsonValue eq && eq.TryGetValue<string>(out var s) => s,
                _ => throw new FormatException($"criterion \"{key}\" must be a string or {{\"$eq\":string}}"),
            };
            switch (key)
            {
                case "repo": repo = literal; break;
                case "type": type = literal is "file" or "folder" or "any" ? literal : throw new FormatException($"unknown type '{literal}'"); break;
                default: throw new FormatException($"criterion \"{key}\" is not supported by this emulator");
            }
        }
        if (repo is null) throw new FormatException("find() needs a \"repo\" criterion");
        if (type is "folder") throw new FormatException("folders are not emulated");

        List<string> include = [], sort = [];
        int? offset = null, limit = null;
        var seen = new HashSet<string>();
        while (!p.AtEnd)
        {
            p.Expect(".");
            var method = p.Identifier();
            if (!seen.Add(method)) throw new FormatException($"{method}() given twice");
            p.Expect("(");
            switch (method)
            {
                case "include":
                    foreach (var field in JsonNode.Parse("[" + p.Until(')') + "]")!.AsArray())
                        include.Add(field is JsonValue f && f.TryGetValue<string>(out var s) ? s : throw new FormatException("include() takes field names"));
                    break;
                case "sort":
                    if (JsonNode.Parse(p.JsonValue()) is not JsonObject { Count: 1 } order || order["$asc"] is not JsonArray fields)
                        throw new FormatException("sort() takes {\"$asc\":[fields]} here");
                    foreach (var field in fields)
                        sort.Add(field is JsonValue f && f.TryGetValue<string>(out var s) && SortableFields.Contains(s) ? s : throw new FormatException("sort() takes path, name, repo or size"));
                    break;
                case "offset": offset = p.Integer(); break;
                case "limit": limit = p.Integer(); break;
                default: throw new FormatException($"unknown method {method}()");
            }
            p.Expect(")");
        }
        return new Query(repo, type, include, sort, offset, limit);
    }

    private sealed class Cursor(string text)
    {
        private int _at;

        public bool AtEnd { get { SkipSpace(); return _at >= text.Length; } }

        private void SkipSpace() { while (_at < text.Length && char.IsWhiteSpace(text[_at])) _at++; }

        public void Expect(string token)
        {
            SkipSpace();
            if (string.CompareOrdinal(text, _at, token, 0, token.Length) != 0) throw new FormatException($"expected '{token}' at {_at}");
            _at += token.Length;
        }

        public string Identifier()
        {
            SkipSpace();
            var start = _at;
            while (_at < text.Length && char.IsAsciiLetter(text[_at])) _at++;
            return start == _at ? throw new FormatException($"expected a method name at {start}") : text[start.._at];
        }

        public int Integer()
        {
            SkipSpace();
            var start = _at;
            while (_at < text.Length && char.IsAsciiDigit(text[_at])) _at++;
            return int.TryParse(text.AsSpan(start, _at - start), out var n) ? n : throw new FormatException($"expected a number at {start}");
        }

        /// <summary>The text up to (not including) <paramref name="end"/> outside JSON strings.</summary>
        public string Until(char end)
        {
            var start = _at;
            var inString = false;
            for (; _at < text.Length; _at++)
            {
                var c = text[_at];
                if (inString) { if (c == '\\') _at++; else if (c == '"') inString = false; }
                else if (c == '"') inString = true;
                else if (c == end) return text[start.._at];
            }
            throw new FormatException($"unterminated argument from {start}");
        }

        /// <summary>One balanced JSON object or array (strings and escapes respected), validated by the JSON parser.</summary>
        public string JsonValue()
        {
            SkipSpace();
            var start = _at;
            var depth = 0;
            var inString = false;
            for (; _at < text.Length; _at++)
            {
                var c = text[_at];
                if (inString) { if (c == '\\') _at++; else if (c == '"') inString = false; continue; }
                if (c == '"') inString = true;
                else if (c is '{' or '[') depth++;
                else if (c is '}' or ']')
                {
                    if (--depth == 0)
                    {
                        _at++;
                        var json = text[start.._at];
                        try { using var _ = JsonDocument.Parse(json); }
                        catch (JsonException e) { throw new FormatException(e.Message); }
                        return json;
                    }
                }
                else if (depth == 0) break;
            }
            throw new FormatException($"expected a JSON object at {start}");
        }
    }
}
