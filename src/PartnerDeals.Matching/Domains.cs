using System.Globalization;
using System.Net;
using System.Reflection;

namespace PartnerDeals.Matching;

/// <summary>
/// Reduces a website URL, an e-mail address or a bare host to its registrable domain with the
/// Public Suffix List (ICANN and private sections: shop.myshopify.com stays itself,
/// www.acme.co.uk becomes acme.co.uk). Free-mail and consumer ISP domains never identify a company.
/// </summary>
public static class Domains
{
    private static readonly PublicSuffixRules Rules = PublicSuffixRules.Load();
    private static readonly HashSet<string> FreeMail = LoadList("free_mail_domains.txt");
    private static readonly IdnMapping Idn = new() { AllowUnassigned = false, UseStd3AsciiRules = true };

    /// <summary>The registrable domain that identifies a company, or null (no usable host, a public suffix itself, or free mail).</summary>
    public static string? CompanyDomain(string? input)
    {
        var registrable = Registrable(input);
        return registrable is null || FreeMail.Contains(registrable) ? null : registrable;
    }

    /// <summary>
    /// The brand of a registrable domain: its label before the public suffix (contoso-pharma.de and
    /// contoso-pharma.com are both "contoso-pharma").
    /// </summary>
    public static string? BrandLabel(string? registrableDomain)
    {
        if (string.IsNullOrEmpty(registrableDomain)) return null;
        var dot = registrableDomain.IndexOf('.');
        return dot > 0 ? registrableDomain[..dot] : null;
    }

    public static bool IsFreeMail(string? input) => Registrable(input) is { } d && FreeMail.Contains(d);

    /// <summary>The registrable domain of a URL, e-mail address or host; null when there is none.</summary>
    public static string? Registrable(string? input)
    {
        var host = Host(input);
        if (host is null) return null;
        var labels = host.Split('.');
        var suffixLength = Rules.PublicSuffixLength(labels);
        return labels.Length > suffixLength ? string.Join('.', labels[^(suffixLength + 1)..]) : null;
    }

    /// <summary>The host of a URL, e-mail address or bare host, lower-case ASCII (punycode); null when malformed or an IP address.</summary>
    public static string? Host(string? input)
    {
        if (string.IsNullOrWhiteSpace(input) || input.Length > 2048) return null;
        var text = input.Trim();
        var at = text.LastIndexOf('@');
        if (at >= 0 && !text.Contains("://", StringComparison.Ordinal)) text = text[(at + 1)..];

        string host;
        if (text.Contains("://", StringComparison.Ordinal))
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri)) return null;
            host = uri.IdnHost;
        }
        else
        {
            var end = text.IndexOfAny(['/', '?', '#', ':']);
            host = end >= 0 ? text[..end] : text;
        }

        host = host.Trim().TrimEnd('.').ToLowerInvariant();
        if (host.Length == 0 || !host.Contains('.') || IPAddress.TryParse(host, out _)) return null;
        try
        {
            host = Idn.GetAscii(host);
        }
        catch (ArgumentException)
        {
            return null;
        }
        return host.Split('.').All(l => l.Length is > 0 and <= 63) ? host : null;
    }

    internal static HashSet<string> LoadList(string resource)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"{resource} is not embedded");
        using var reader = new StreamReader(stream);
        var set = new HashSet<string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            line = line.Trim();
            if (line.Length > 0 && !line.StartsWith('#')) set.Add(line.ToLowerInvariant());
        }
        return set;
    }

    /// <summary>The list's three kinds of rule: plain (com, co.uk), wildcard (*.ck) and exception (!www.ck).</summary>
    private sealed class PublicSuffixRules
    {
        private readonly HashSet<string> _plain = new(StringComparer.Ordinal);
        private readonly HashSet<string> _wildcard = new(StringComparer.Ordinal);
        private readonly HashSet<string> _exception = new(StringComparer.Ordinal);

        public static PublicSuffixRules Load()
        {
            var rules = new PublicSuffixRules();
            var idn = new IdnMapping();
            using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("public_suffix_list.dat")
                ?? throw new InvalidOperationException("public_suffix_list.dat is not embedded");
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } raw)
            {
                var line = raw.Trim();
                if (line.Length == 0 || line.StartsWith("//", StringComparison.Ordinal)) continue;
                line = line.Split(' ', '\t')[0];
                var set = rules._plain;
                if (line.StartsWith("!", StringComparison.Ordinal)) { set = rules._exception; line = line[1..]; }
                else if (line.StartsWith("*.", StringComparison.Ordinal)) { set = rules._wildcard; line = line[2..]; }
                try
                {
                    set.Add(idn.GetAscii(line.ToLowerInvariant()));
                }
                catch (ArgumentException)
                {
                    // a rule the IDN mapping refuses cannot match an ASCII host either
                }
            }
            return rules;
        }

        /// <summary>How many labels at the end of the host are the public suffix (at least 1: the implicit "*" rule).</summary>
        public int PublicSuffixLength(string[] labels)
        {
            // From the longest candidate down, so the first rule found is the longest that applies.
            for (var i = 0; i < labels.Length; i++)
            {
                var candidate = string.Join('.', labels[i..]);
                if (_exception.Contains(candidate)) return labels.Length - i - 1;
                if (_plain.Contains(candidate)) return labels.Length - i;
                if (i + 1 < labels.Length && _wildcard.Contains(string.Join('.', labels[(i + 1)..]))) return labels.Length - i;
            }
            return 1;
        }
    }
}
