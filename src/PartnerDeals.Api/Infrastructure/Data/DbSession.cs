using System.Collections.Concurrent;
using System.Data.Common;
using System.Linq.Expressions;
using System.Text.RegularExpressions;
using Dapper;

namespace PartnerDeals.Api.Infrastructure.Data;

/// <summary>
/// One piece of work on the database: the connection it runs on and, when it writes, its transaction.
/// Every store takes one of these, so a read and a decision call the same methods, and a statement can
/// never run on one connection inside another's transaction. Disposing it ends the transaction, never
/// the connection: whoever opened that closes it.
/// </summary>
public sealed class DbSession(Database database, DbConnection connection, DbTransaction? transaction) : IAsyncDisposable
{
    public Database Database { get; } = database;

    public DbConnection Connection { get; } = connection;

    /// <summary>The write transaction; none for a plain read.</summary>
    public DbTransaction? Transaction { get; } = transaction;

    public SqlDialect Dialect => Database.Dialect;

    public Task<int> ExecuteAsync(string sql, object? parameters, CancellationToken ct) =>
        Connection.ExecuteAsync(Database.Command(sql, parameters, ct, Transaction));

    public async Task<List<T>> QueryAsync<T>(string sql, object? parameters, CancellationToken ct) =>
        (await Connection.QueryAsync<T>(Database.Command(sql, parameters, ct, Transaction))).AsList();

    public Task<T?> QueryFirstOrDefaultAsync<T>(string sql, object? parameters, CancellationToken ct) =>
        Connection.QueryFirstOrDefaultAsync<T>(Database.Command(sql, parameters, ct, Transaction));

    public Task<T?> QuerySingleOrDefaultAsync<T>(string sql, object? parameters, CancellationToken ct) =>
        Connection.QuerySingleOrDefaultAsync<T>(Database.Command(sql, parameters, ct, Transaction));

    public Task<T?> ExecuteScalarAsync<T>(string sql, object? parameters, CancellationToken ct) =>
        Connection.ExecuteScalarAsync<T>(Database.Command(sql, parameters, ct, Transaction));

    /// <inheritdoc cref="Database.QueryRepeatedAsync{T}"/>
    public Task<IReadOnlyList<T>> QueryRepeatedAsync<T>(string sql, IReadOnlyList<(string Name, object? Value)> parameters, CancellationToken ct) =>
        Database.QueryRepeatedAsync<T>(Connection, Transaction, sql, parameters, ct);

    /// <inheritdoc cref="Database.ScalarRepeatedAsync"/>
    public Task<long> ScalarRepeatedAsync(string sql, IReadOnlyList<(string Name, object? Value)> parameters, CancellationToken ct) =>
        Database.ScalarRepeatedAsync(Connection, Transaction, sql, parameters, ct);

    /// <inheritdoc cref="Database.ExecuteEachAsync{T}"/>
    public Task ExecuteEachAsync<T>(string sql, string[] names, IEnumerable<T> rows, Action<T, object?[]> valuesOf, CancellationToken ct,
        Action<T, long>? inserted = null) =>
        Database.ExecuteEachAsync(Connection, Transaction, sql, names, rows, valuesOf, ct, inserted);

    /// <summary>
    /// The same for rows of a record type: the statement's <c>@Name</c> parameters are read from the row's
    /// properties of the same name, so a table's row record alone says what is written.
    /// </summary>
    public Task ExecuteEachAsync<T>(string sql, IEnumerable<T> rows, CancellationToken ct, Action<T, long>? inserted = null)
    {
        var (names, getters) = RowParameters<T>.Of(sql);
        return ExecuteEachAsync(sql, names, rows, (row, values) =>
        {
            for (var i = 0; i < getters.Length; i++) values[i] = getters[i](row);
        }, ct, inserted);
    }

    public Task CommitAsync(CancellationToken ct = default) =>
        (Transaction ?? throw new InvalidOperationException("A read has no transaction to commit.")).CommitAsync(ct);

    public Task RollbackAsync(CancellationToken ct = default) =>
        (Transaction ?? throw new InvalidOperationException("A read has no transaction to roll back.")).RollbackAsync(ct);

    public ValueTask DisposeAsync() => Transaction?.DisposeAsync() ?? ValueTask.CompletedTask;
}

/// <summary>A statement's parameter names and, for each, the getter of the row property it is bound from.</summary>
internal static class RowParameters<T>
{
    private static readonly ConcurrentDictionary<string, (string[] Names, Func<T, object?>[] Getters)> BySql = new();

    public static (string[] Names, Func<T, object?>[] Getters) Of(string sql) => BySql.GetOrAdd(sql, static text =>
    {
        var names = Regex.Matches(text, @"@(\w+)").Select(m => m.Groups[1].Value).Distinct().ToArray();
        var getters = names.Select(name =>
        {
            var property = typeof(T).GetProperty(name) ?? throw new InvalidOperationException($"{typeof(T).Name} has no property for @{name}.");
            var row = Expression.Parameter(typeof(T));
            return Expression.Lambda<Func<T, object?>>(Expression.Convert(Expression.Property(row, property), typeof(object)), row).Compile();
        }).ToArray();
        return (names.Select(n => "@" + n).ToArray(), getters);
    });
}
