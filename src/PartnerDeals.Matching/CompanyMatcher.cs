namespace PartnerDeals.Matching;

/// <summary>A name a company is also known as (a former name, a local-script name, a ticker), as written and normalised.</summary>
public sealed record AlternateName(string Text, CompanyName Name);

/// <summary>What is known about a company on either side of a comparison.</summary>
/// <param name="Name">The normalised name.</param>
/// <param name="Domain">The registrable company domain (never free mail), or null.</param>
/// <param name="Country">ISO 3166-1 alpha-2, upper case, or null.</param>
public sealed record Company(CompanyName Name, string? Domain, string? Country)
{
    /// <summary>Most alternate names a record carries.</summary>
    public const int MaxAlternateNames = 20;

    /// <summary>Other readings of the name (a look-alike skeleton) and the record's alternate names.</summary>
    public IReadOnlyList<AlternateName> OtherNames { get; init; } = [];

    /// <summary>The domain is the contact's e-mail domain, given for want of a company website.</summary>
    public bool DomainFromEmail { get; init; }

    /// <summary>The contact's e-mail domain when it is a company's (never free mail), whether or not a website is given.</summary>
    public string? EmailDomain { get; init; }

    private string? _brandKey;

    /// <summary>The brand of the domain as a name key would be ("contoso-pharma.de" → "contosopharma"), four letters or more; else empty or null.</summary>
    internal string? DomainBrandKey =>
        _brandKey ??= Domains.BrandLabel(Domain)?.Replace("-", "") is { Length: >= 4 } label ? label : (Domain is null ? null : "");


    /// <summary>The primary name first, then every other name: each is blocked on and scored.</summary>
    public IEnumerable<(CompanyName Name, string? Alternate)> AllNames =>
        OtherNames.Select(n => (n.Name, (string?)n.Text)).Prepend((Name, null));

    public static Company From(string? name, string? domainOrUrlOrEmail, string? country,
        IEnumerable<string>? alternateNames = null, string? contactEmail = null)
    {
        var readings = CompanyName.Readings(name);
        var others = readings.Skip(1).Select(r => new AlternateName("", r)).ToList();
        foreach (var alternate in alternateNames ?? [])
        {
            if (string.IsNullOrWhiteSpace(alternate)) continue;
            others.AddRange(CompanyName.Readings(alternate).Where(r => !r.IsEmpty).Select(r => new AlternateName(alternate.Trim(), r)));
        }
        var domain = Domains.CompanyDomain(domainOrUrlOrEmail);
        var emailDomain = Domains.CompanyDomain(contactEmail);
        return new Company(readings[0], domain ?? emailDomain, string.IsNullOrWhiteSpace(country) ? null : country.Trim().ToUpperInvariant())
        {
            OtherNames = others,
            DomainFromEmail = domain is null && emailDomain is not null,
            EmailDomain = emailDomain,
        };
    }
}

public enum Verdict
{
    Clear,
    Review,
    Conflict,
}

/// <summary>One piece of evidence: its name and its value (1 for a yes/no signal, the similarity otherwise).</summary>
/// <param name="Detail">What the signal refers to, where a value cannot say it: the alternate name that matched.</param>
public sealed record MatchSignal(string Name, double Value, string? Detail = null);

public sealed record MatchResult(double Score, Verdict Verdict, IReadOnlyList<MatchSignal> Signals);

/// <summary>Thresholds and weights of the score; bound from configuration (<c>Matching:*</c>).</summary>
public sealed class MatchSettings
{
    /// <summary>At or above: the accounts are the same (conflict).</summary>
    public double ConflictThreshold { get; set; } = 0.90;

    /// <summary>At or above, below conflict: a person should look (review).</summary>
    public double ReviewThreshold { get; set; } = 0.75;

    /// <summary>Score when both sides name the same registrable domain.</summary>
    public double DomainEqualScore { get; set; } = 0.99;

    /// <summary>Score when one name is the acronym of the other (IBM / International Business Machines).</summary>
    public double AcronymScore { get; set; } = 0.91;

    /// <summary>Weight of token-set similarity against Jaro-Winkler of the keys in the fuzzy name score.</summary>
    public double TokenSetWeight { get; set; } = 0.6;

    /// <summary>The fuzzy name score is at least the keys' Jaro-Winkler less this.</summary>
    public double KeySimilarityDiscount { get; set; } = 0.07;

    /// <summary>Added when both countries are known and equal.</summary>
    public double CountryEqualBonus { get; set; } = 0.03;

    /// <summary>Subtracted when both countries are known and differ: the same name abroad is often another company.</summary>
    public double CountryDiffersPenalty { get; set; } = 0.20;

    /// <summary>Subtracted when both domains are known and differ: the same name on another website wants a person's look.</summary>
    public double DomainDiffersPenalty { get; set; } = 0.15;

    /// <summary>Subtracted instead when the names only partly agree and the domains differ: two companies, not a review.</summary>
    public double PartialNameDomainDiffersPenalty { get; set; } = 0.25;

    /// <summary>Added when the two domains are one brand under different public suffixes (contoso.de / contoso.com).</summary>
    public double BrandLabelBonus { get; set; } = 0.05;

    /// <summary>Score when the query's contact e-mail domain is the candidate's domain (no company website given).</summary>
    public double EmailDomainScore { get; set; } = 0.95;

    /// <summary>
    /// The score is at least this when the contact's e-mail domain is the candidate's though the website given is
    /// another, or when one side's website is the other's name ("contosopharma.de" / "Contoso Pharma"): a person should look.
    /// </summary>
    public double DomainNamesCandidateScore { get; set; } = 0.80;

    /// <summary>The name score is at least this when the names are one name romanised two ways (Kontoso Farma / Contoso Pharma).</summary>
    public double RomanisationScore { get; set; } = 0.86;

    /// <summary>The name score is at most this when both names carry numbers and they differ (Studio 52 / Studio 54).</summary>
    public double NumberDiffersScore { get; set; } = 0.5;

    /// <summary>The name score is at most this for two one-word names that differ (a misspelling of one word is a review).</summary>
    public double OneWordMisspellingScore { get; set; } = 0.85;

    /// <summary>The name score is at least this when one name's tokens are all in the other (a review, not a conflict).</summary>
    public double ContainedNameScore { get; set; } = 0.78;

    /// <summary>A misspelt token counts as this much of a shared one in the token-set similarity.</summary>
    public double MisspeltTokenWeight { get; set; } = 0.9;

    public Verdict VerdictFor(double score) =>
        score >= ConflictThreshold ? Verdict.Conflict : score >= ReviewThreshold ? Verdict.Review : Verdict.Clear;
}

/// <summary>Scores how likely two company records are the same account, with the signals that decided it.</summary>
public sealed class CompanyMatcher(MatchSettings settings)
{
    public MatchSettings Settings => settings;

    /// <summary>
    /// The alternate names of <paramref name="company"/> that nothing ties to it: by the matcher's own evidence each resembles
    /// neither its name nor its domain (below review, either way round). A claim holds only the names tied to it — twenty
    /// unrelated companies written in as alternate names are not the company.
    /// </summary>
    public IReadOnlyList<string> UnrelatedAlternates(Company company)
    {
        var alternates = company.OtherNames.Where(n => n.Text.Length > 0).GroupBy(n => n.Text, StringComparer.Ordinal).ToList();
        if (alternates.Count == 0) return [];
        var own = company with { OtherNames = company.OtherNames.Where(n => n.Text.Length == 0).ToList(), EmailDomain = null, DomainFromEmail = false };
        var unrelated = new List<string>();
        foreach (var alternate in alternates)
        {
            var named = new Company(alternate.First().Name, null, company.Country) { OtherNames = alternate.Skip(1).ToList() };
            var tied = Score(named, own).Verdict != Verdict.Clear || Score(own, named).Verdict != Verdict.Clear;
            if (!tied) unrelated.Add(alternate.Key);
        }
        return unrelated;
    }

    /// <summary>The company as a claim holds it: without the alternate names nothing ties to it.</summary>
    public Company Held(Company company)
    {
        var unrelated = UnrelatedAlternates(company);
        return unrelated.Count == 0 ? company : company with { OtherNames = company.OtherNames.Where(n => !unrelated.Contains(n.Text)).ToList() };
    }

    public MatchResult Score(Company query, Company candidate)
    {
        // Every name of one side against every name of the other; the best pair decides.
        (double Score, List<MatchSignal> Signals, CompanyName Query, string? Alternate) best = (-1, [], query.Name, null);
        foreach (var (queryName, queryAlternate) in query.AllNames)
        {
            foreach (var (candidateName, candidateAlternate) in candidate.AllNames)
            {
                var (nameScore, nameSignals) = NameScore(queryName, candidateName);
                if (nameScore <= best.Score) continue;
                var alternate = string.IsNullOrEmpty(queryAlternate) ? candidateAlternate : queryAlternate;
                best = (nameScore, nameSignals, queryName, alternate);
                if (nameScore >= 1) break;
            }
            if (best.Score >= 1) break;
        }

        var signals = best.Signals;
        var score = Math.Max(0, best.Score);
        if (best.Query.Disguised) signals.Insert(0, new("confusable_folded", 1));
        if (!string.IsNullOrEmpty(best.Alternate)) signals.Add(new("alternate_name", 1, best.Alternate));
        var namesAgree = signals.Exists(s => s.Name == "key_equal");
        var countriesDiffer = query.Country is not null && candidate.Country is not null && query.Country != candidate.Country;
        var floor = 0.0;

        if (query.Domain is not null && candidate.Domain is not null)
        {
            if (query.Domain == candidate.Domain)
            {
                if (query.DomainFromEmail)
                {
                    score = Math.Max(score, settings.EmailDomainScore);
                    signals.Insert(0, new("email_domain", 1));
                }
                else
                {
                    score = Math.Max(score, settings.DomainEqualScore);
                    signals.Insert(0, new("domain_equal", 1));
                }
            }
            else if (Domains.BrandLabel(query.Domain) is { Length: >= 3 } label && label == Domains.BrandLabel(candidate.Domain))
            {
                // One brand under two public suffixes (contoso-pharma.de / .eu): evidence for, not against. Across
                // countries a brand's national domains are its national companies: neither for nor against.
                if (!countriesDiffer) score += settings.BrandLabelBonus;
                signals.Add(new("brand_label_equal", 1));
            }
            else if (!query.DomainFromEmail)
            {
                // A consultant writes from its own address: a differing e-mail domain says nothing.
                score -= namesAgree ? settings.DomainDiffersPenalty : settings.PartialNameDomainDiffersPenalty;
                signals.Add(new("domain_differs", 1));
            }
        }

        // The contact writes from the candidate's domain though the website given is another one.
        if (query.EmailDomain is not null && !query.DomainFromEmail && query.EmailDomain == candidate.Domain && query.Domain != candidate.Domain)
        {
            floor = settings.DomainNamesCandidateScore;
            signals.Insert(0, new("email_domain", 1));
        }
        // One side's website is the other's name: contosopharma.de for "Contoso Pharma Vertrieb".
        if (!query.DomainFromEmail && query.Domain != candidate.Domain && (NamesDomain(candidate, query) || NamesDomain(query, candidate)))
        {
            floor = settings.DomainNamesCandidateScore;
            signals.Add(new("website_names_company", 1));
        }

        if (query.Country is not null && candidate.Country is not null)
        {
            if (query.Country == candidate.Country)
            {
                score += settings.CountryEqualBonus;
                signals.Add(new("country_equal", 1));
            }
            else
            {
                score -= settings.CountryDiffersPenalty;
                signals.Add(new("country_differs", 1));
            }
        }

        if (!countriesDiffer) score = Math.Max(score, floor);
        score = Math.Round(Math.Clamp(score, 0, 1), 4);
        return new MatchResult(score, settings.VerdictFor(score), signals);
    }

    /// <summary>The brand of the other side's website is one of the company's name keys.</summary>
    private static bool NamesDomain(Company company, Company other)
    {
        if (other.DomainBrandKey is not { Length: > 0 } brand) return false;
        if (company.Name.Key == brand) return true;
        foreach (var name in company.OtherNames)
        {
            if (name.Name.Key == brand) return true;
        }
        return false;
    }

    /// <summary>How alike two names are, in [0, 1], with the signals that say why.</summary>
    private (double Score, List<MatchSignal> Signals) NameScore(CompanyName a, CompanyName b)
    {
        var signals = new List<MatchSignal>();
        if (a.IsEmpty || b.IsEmpty) return (0, signals);
        if (a.Key == b.Key)
        {
            signals.Add(new("key_equal", 1));
            if (a.Abbreviations.Count > 0 || b.Abbreviations.Count > 0)
            {
                signals.Add(new("abbreviation", 1, string.Join(", ", a.Abbreviations.Concat(b.Abbreviations).Distinct().Select(f => $"{f.Written} → {f.Word}"))));
            }
            return (1.0, signals);
        }

        var tokens = Similarity.TokenSet(a.Tokens, b.Tokens, settings.MisspeltTokenWeight, alone: a.Tokens.Count == 1 || b.Tokens.Count == 1);
        var jaroWinkler = Similarity.JaroWinkler(a.Key, b.Key);
        var score = settings.TokenSetWeight * tokens + (1 - settings.TokenSetWeight) * jaroWinkler;
        // Typos that split or glue words ("co mier st nton") defeat tokens but not the glued keys, and a name
        // that holds the other whole ("Cisco Systems" / "Cisco") is often the same company: then the keys'
        // similarity stands for the name's. Not otherwise: "Boston Consulting" and "Boston Novo Design" share
        // a prefix, not a company.
        // One word against one word is held to the misspelling rule: Ciena and Cigna are two companies.
        var keyEdits = a.Tokens.Count == 1 && b.Tokens.Count == 1
            ? Similarity.AllowedEdits(a.Key, b.Key, alone: true)
            : Math.Max(2, Math.Min(a.Key.Length, b.Key.Length) / 4);
        if (a.Key[0] == b.Key[0] && ((keyEdits > 0 && Similarity.Edits(a.Key, b.Key, keyEdits) <= keyEdits) || (a.Tokens.Count != b.Tokens.Count && Contains(a, b))))
        {
            score = Math.Max(score, jaroWinkler - settings.KeySimilarityDiscount);
        }
        // A name cut short, as a CRM field of fixed length cuts it ("Marriott Internatio", "Harv"): a person should look.
        if (CutShort(a, b) || CutShort(b, a))
        {
            score = Math.Max(score, settings.ContainedNameScore);
            signals.Add(new("cut_short", 1));
        }
        // One name held whole in the other ("Google" / "Jigsaw Google", "CNRS" / "LAAS CNRS") is a division,
        // a brand or the same company described at length: a person should look. A name of two letters only as the
        // other's first word ("BT" / "BT Americas", "HP" / "HP Labs"): elsewhere two letters are anyone's initials.
        if (a.Tokens.Count != b.Tokens.Count && Contains(a, b)
            && (Math.Min(a.Key.Length, b.Key.Length) >= 3 || (a.Tokens.Count == 1 ? b.Tokens[0] == a.Key : a.Tokens[0] == b.Key)))
        {
            score = Math.Max(score, settings.ContainedNameScore);
        }
        // One word against another that is not it is at most a review: Resona / Resonac, Tokura / Topura.
        if (a.Tokens.Count == 1 && b.Tokens.Count == 1) score = Math.Min(score, settings.OneWordMisspellingScore);
        if (tokens > 0) signals.Add(new("token_set_similarity", Math.Round(tokens, 3)));
        signals.Add(new("jaro_winkler", Math.Round(jaroWinkler, 3)));

        var allowed = Similarity.AllowedEdits(a.Key, b.Key, alone: true);
        if (allowed > 0 && Similarity.Edits(a.Key, b.Key, allowed) is var edits && edits <= allowed && MisspeltWithin(a, b))
        {
            signals.Add(new("edit_distance", edits));
        }

        if (IsAcronym(a, b) || IsAcronym(b, a))
        {
            // Two letters stand for too many names to decide on their own.
            var shortest = Math.Min(a.Key.Length, b.Key.Length);
            score = Math.Max(score, shortest >= 3 ? settings.AcronymScore : settings.AcronymScore - 0.1);
            signals.Add(new("acronym", 1));
        }
        else if (score < settings.OneWordMisspellingScore && (InitialsWithin(a, b) || InitialsWithin(b, a)))
        {
            // "NZ Registry Services" / "New Zealand Registry Services", "CSU Sacramento": initials for some of the words,
            // the rest the same. At most a review: initials stand for many names.
            score = settings.OneWordMisspellingScore;
            signals.Add(new("acronym", 1));
        }

        // One name is a run of the other's words glued ("Verisign Labs" / "Veri Sign", "World Com Japan" / "WorldCom").
        if (score < settings.ContainedNameScore && (GluedWithin(a, b) || GluedWithin(b, a)))
        {
            score = settings.ContainedNameScore;
            signals.Add(new("glued_within", 1));
        }

        // One name romanised two ways: Контосо Фарма → "kontoso farma", written "Contoso Pharma" in Latin.
        // Within one letter from six on: a vowel one romanisation writes and another does not (Майкрософт → "maykrosoft").
        if (score < settings.RomanisationScore && Math.Abs(a.Key.Length - b.Key.Length) <= 4
            && (a.RomanisedKey == b.RomanisedKey
                || (Math.Min(a.RomanisedKey.Length, b.RomanisedKey.Length) >= 6 && Similarity.Edits(a.RomanisedKey, b.RomanisedKey, 1) <= 1)))
        {
            score = settings.RomanisationScore;
            signals.Add(new("romanisation", 1));
        }

        if (NumbersDiffer(a.Key, b.Key))
        {
            score = Math.Min(score, settings.NumberDiffersScore);
            signals.Add(new("number_differs", 1));
        }
        return (score, signals);
    }

    /// <summary>
    /// <paramref name="cut"/> is <paramref name="whole"/> with its last word cut short: every word before it equal,
    /// the last a prefix of the other's, keeping at least two thirds of a lone word (Harv / Harvey, never Intel / Intelsat)
    /// and at least two letters of a last word after others (Wuckert Te / Wuckert Terry).
    /// </summary>
    private static bool CutShort(CompanyName cut, CompanyName whole)
    {
        if (cut.Tokens.Count != whole.Tokens.Count || cut.Key.Length >= whole.Key.Length) return false;
        var last = cut.Tokens.Count - 1;
        for (var i = 0; i < last; i++)
        {
            if (cut.Tokens[i] != whole.Tokens[i]) return false;
        }
        var (part, word) = (cut.Tokens[last], whole.Tokens[last]);
        if (!word.StartsWith(part, StringComparison.Ordinal) || part.Any(char.IsAsciiDigit)) return false;
        return last == 0 ? part.Length >= 4 && part.Length * 3 >= word.Length * 2 : part.Length >= 2;
    }

    /// <summary>
    /// <paramref name="glued"/>'s key is a run of two or more of <paramref name="words"/>' tokens written together ("att" in
    /// "at t labs"), or, of five letters or more, one of its tokens is <paramref name="glued"/>'s tokens written together.
    /// </summary>
    private static bool GluedWithin(CompanyName glued, CompanyName words)
    {
        if (glued.Key.Length < 3) return false;
        var key = glued.Key.AsSpan();
        for (var start = 0; start < words.Tokens.Count; start++)
        {
            var at = 0;
            for (var end = start; end < words.Tokens.Count && key[at..].StartsWith(words.Tokens[end], StringComparison.Ordinal); end++)
            {
                at += words.Tokens[end].Length;
                if (at < key.Length) continue;
                // Three or four letters only from two words or more ("AT T Labs" / "ATT"): as one token, "IBM Labs" / "IBM" is containment.
                return end > start || (glued.Tokens.Count > 1 && glued.Key.Length >= 5);
            }
        }
        return false;
    }

    /// <summary>
    /// One token of <paramref name="short"/> (two to five letters) is the initials of a run of <paramref name="full"/>'s
    /// tokens, and every other token of it is the next of <paramref name="full"/>'s, in order.
    /// </summary>
    private static bool InitialsWithin(CompanyName @short, CompanyName full)
    {
        if (@short.Tokens.Count < 2 || @short.Tokens.Count >= full.Tokens.Count) return false;
        for (var i = 0; i < @short.Tokens.Count; i++)
        {
            var initials = @short.Tokens[i];
            if (initials.Length is < 2 or > 5 || initials.Any(char.IsAsciiDigit)) continue;
            // The short name read with its initials spelt out: as many words as the full name's run.
            var length = @short.Tokens.Count - 1 + initials.Length;
            for (var start = 0; start + length <= full.Tokens.Count; start++)
            {
                var matches = true;
                for (var k = 0; k < length && matches; k++)
                {
                    var word = full.Tokens[start + k];
                    matches = k < i ? word == @short.Tokens[k]
                        : k < i + initials.Length ? word[0] == initials[k - i]
                        : word == @short.Tokens[k - initials.Length + 1];
                }
                if (matches) return true;
            }
        }
        return false;
    }

    /// <summary>Every token of the name with fewer is a token of the other or a misspelling of one.</summary>
    private static bool Contains(CompanyName a, CompanyName b)
    {
        var (few, many) = a.Tokens.Count <= b.Tokens.Count ? (a, b) : (b, a);
        var alone = few.Tokens.Count == 1;
        return few.Tokens.All(t => many.Tokens.Any(o => o == t || Similarity.IsMisspelling(t, o, alone)));
    }

    /// <summary>The names are one another misspelt, token by token, or with a word split or glued (the keys' distance says it).</summary>
    private static bool MisspeltWithin(CompanyName a, CompanyName b) => Contains(a, b) || a.Tokens.Count != b.Tokens.Count;

    /// <summary>Both names carry numbers, and not the same ones: two companies (Channel 4 / Channel 5).</summary>
    internal static bool NumbersDiffer(string a, string b)
    {
        var left = Numbers(a);
        if (left.Count == 0) return false;
        var right = Numbers(b);
        return right.Count > 0 && !left.SequenceEqual(right);
    }

    private static List<string> Numbers(string key)
    {
        var numbers = new List<string>();
        for (var i = 0; i < key.Length; i++)
        {
            if (!char.IsAsciiDigit(key[i])) continue;
            var start = i;
            while (i < key.Length && char.IsAsciiDigit(key[i])) i++;
            numbers.Add(key[start..i].TrimStart('0'));
        }
        numbers.Sort(StringComparer.Ordinal);
        return numbers;
    }

    /// <summary>True when <paramref name="shortName"/> is the initials of a name of two or more tokens.</summary>
    private static bool IsAcronym(CompanyName shortName, CompanyName longName) =>
        shortName.Tokens.Count == 1 && shortName.Key.Length >= 2 && shortName.Key == longName.Acronym;
}
