using PartnerDeals.Matching;

namespace PartnerDeals.UnitTests;

public sealed class DomainsTests
{
    [TestCase("https://www.acme.com/about?x=1", "acme.com")]
    [TestCase("http://shop.acme.co.uk:8080/", "acme.co.uk")]
    [TestCase("www.acme.com.au", "acme.com.au")]
    [TestCase("ACME.COM.", "acme.com")]
    [TestCase("jane.doe@sales.acme.de", "acme.de")]
    [TestCase("mailto:jane@acme.fr", "acme.fr")]
    [TestCase("acme.myshopify.com", "acme.myshopify.com")]
    [TestCase("https://team.github.io/project", "team.github.io")]
    [TestCase("api.acme-app.herokuapp.com", "acme-app.herokuapp.com")]
    [TestCase("www.city.kawasaki.jp", "city.kawasaki.jp")]
    [TestCase("foo.bar.kawasaki.jp", "foo.bar.kawasaki.jp")]
    [TestCase("münchen-bau.de", "xn--mnchen-bau-9db.de")]
    [TestCase("https://www.bücher.de/", "xn--bcher-kva.de")]
    public void Registrable_ReducesUrlsMailAndHostsWithThePublicSuffixList(string input, string expected) =>
        Domains.Registrable(input).ShouldBe(expected);

    [TestCase("co.uk")]
    [TestCase("com")]
    [TestCase("myshopify.com")]
    [TestCase("localhost")]
    [TestCase("192.168.1.10")]
    [TestCase("http://[::1]/")]
    [TestCase("not a domain")]
    [TestCase("")]
    [TestCase(null)]
    public void Registrable_NoRegistrableDomain_IsNull(string? input) => Domains.Registrable(input).ShouldBeNull();

    [TestCase("jane@gmail.com")]
    [TestCase("https://outlook.com")]
    [TestCase("someone@yahoo.co.uk")]
    [TestCase("x@t-online.de")]
    [TestCase("mail.proton.me")]
    public void CompanyDomain_FreeMail_NeverIdentifiesACompany(string input)
    {
        Domains.IsFreeMail(input).ShouldBeTrue();
        Domains.CompanyDomain(input).ShouldBeNull();
    }

    [Test]
    public void CompanyDomain_OrdinaryCompany_IsItsRegistrableDomain() =>
        Domains.CompanyDomain("https://www.contoso-pharma.de/kontakt").ShouldBe("contoso-pharma.de");
}
