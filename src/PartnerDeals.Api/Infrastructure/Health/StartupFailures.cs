using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace PartnerDeals.Api.Infrastructure.Health;

/// <summary>
/// What stops the service at start-up, said in one line — the cause and what to do — instead of an unhandled exception's
/// stack trace, whose first lines point elsewhere. The trace goes to the log at debug level. Anything not recognised here
/// stays an unhandled exception, trace and all.
/// </summary>
public static class StartupFailures
{
    /// <summary>The line for <paramref name="failure"/>, or null when it is not a start-up failure this knows.</summary>
    public static string? Describe(Exception failure, string? urls, string? databaseFile)
    {
        var chain = new List<Exception>();
        for (var e = failure; e is not null; e = e.InnerException) chain.Add(e);
        // Kestrel reports a taken port as an IOException around the cause: the cause decides.
        if (chain.Exists(e => e is AddressInUseException or SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse }))
        {
            return $"{Address(urls)} is already in use, most likely by another PartnerDeals (a second `dotnet run`). Stop that one, or start "
                + "this one on another address: `dotnet run --project src/PartnerDeals.Api --urls http://localhost:5081`.";
        }
        foreach (var e in chain)
        {
            switch (e)
            {
                case OptionsValidationException invalid:
                    return $"a setting is invalid: {string.Join(" ", invalid.Failures)} Correct it (appsettings.json or its environment variable) and start again.";
                case SqliteException { SqliteErrorCode: 5 or 6 }:
                    return $"the database file {databaseFile} is locked by another process. Stop the other process (another PartnerDeals, or a "
                        + "tool holding the file open) and start again.";
                case SqliteException { SqliteErrorCode: 8 or 14 or 23 } sqlite:
                    return $"the database file {databaseFile} cannot be opened for writing ({sqlite.Message.TrimEnd('.')}). Check that its folder exists "
                        + "and that this user may write to both, or point ConnectionStrings:PartnerDeals at another file.";
                case SqliteException { SqliteErrorCode: 26 or 11 }:
                    return $"{databaseFile} is not a PartnerDeals database (SQLite says it is not a database or is damaged). Restore it from a backup, "
                        + "or point ConnectionStrings:PartnerDeals at another file.";
                case IOException io when databaseFile is not null:
                    return $"the database file {databaseFile} cannot be created ({io.Message.TrimEnd('.')}). Check that its folder can be made and "
                        + "written by this user, or point ConnectionStrings:PartnerDeals at another file.";
                case UnauthorizedAccessException denied:
                    return $"{denied.Message.TrimEnd('.')}. Check that this user may write to the data folder, or point ConnectionStrings:PartnerDeals elsewhere.";
            }
        }
        return null;
    }

    /// <summary>
    /// The first address of <paramref name="urls"/> (<c>--urls</c>, <c>ASPNETCORE_URLS</c>) another process already listens on,
    /// found by binding it for a moment before the host starts: once the host is starting, a failed bind is reported by
    /// the host itself, with traces of every service it stops on the way out.
    /// </summary>
    public static string? TakenAddress(string? urls)
    {
        foreach (var url in (urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // Kestrel's wildcards ("http://+:8080", "http://*:8080") are not hosts a URI parser accepts.
            if (!Uri.TryCreate(url.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal),
                    UriKind.Absolute, out var uri) || uri.Port <= 0) continue;
            var address = uri.Host == "localhost" ? System.Net.IPAddress.Loopback
                : System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) ? ip
                : null;
            if (address is null) continue;
            using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                probe.Bind(new System.Net.IPEndPoint(address, uri.Port));
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                return url;
            }
        }
        return null;
    }

    private static string Address(string? urls) => string.IsNullOrWhiteSpace(urls) ? "the address" : urls.Split(';')[0];
}
