using System.Data;
using System.Globalization;
using Dapper;

namespace PartnerDeals.Api.Infrastructure.Data;

/// <summary>
/// Ids and instants are stored the same way on both providers: ids as 36-character text (UUIDv7,
/// so text order is creation order and keyset pages are stable), instants as UTC, calendar days as
/// dates. SQLite has no native type for any of them, so Dapper needs to be told how to read them back.
/// </summary>
internal static class DapperTypeHandlers
{
    private static int _registered;

    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        // Columns are snake_case, properties PascalCase: partner_id fills PartnerId.
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        // Dapper maps these types itself unless their built-in mapping is removed first.
        SqlMapper.RemoveTypeMap(typeof(Guid));
        SqlMapper.RemoveTypeMap(typeof(Guid?));
        SqlMapper.RemoveTypeMap(typeof(DateTimeOffset));
        SqlMapper.RemoveTypeMap(typeof(DateTimeOffset?));
        SqlMapper.RemoveTypeMap(typeof(decimal));
        SqlMapper.RemoveTypeMap(typeof(decimal?));
        SqlMapper.RemoveTypeMap(typeof(DateOnly));
        SqlMapper.RemoveTypeMap(typeof(DateOnly?));
        SqlMapper.RemoveTypeMap(typeof(double));
        SqlMapper.RemoveTypeMap(typeof(double?));
        SqlMapper.AddTypeHandler(new GuidAsText());
        SqlMapper.AddTypeHandler(new UtcInstant());
        SqlMapper.AddTypeHandler(new Money());
        SqlMapper.AddTypeHandler(new CalendarDay());
        SqlMapper.AddTypeHandler(new Real());
    }

    private sealed class GuidAsText : SqlMapper.TypeHandler<Guid>
    {
        public override void SetValue(IDbDataParameter parameter, Guid value)
        {
            // Fixed-length ANSI so SQL Server compares against char(36) columns without a conversion scan.
            parameter.DbType = DbType.AnsiStringFixedLength;
            parameter.Size = 36;
            parameter.Value = value.ToString("D");
        }

        public override Guid Parse(object value) => value switch
        {
            Guid g => g,
            string s => Guid.Parse(s),
            _ => throw new DataException($"Cannot read a {value.GetType().Name} as an id."),
        };
    }

    /// <summary>
    /// Amounts are exact decimals: DECIMAL(19, 4) on SQL Server, decimal text on SQLite (a TEXT column,
    /// so SQLite never turns it into a 15-digit real). Aggregates (SUM) and percentages still arrive as
    /// integers or reals, so every numeric column is read through decimal, whatever the row holds, and
    /// without the trailing zeros of the column's scale.
    /// </summary>
    private sealed class Money : SqlMapper.TypeHandler<decimal>
    {
        public override void SetValue(IDbDataParameter parameter, decimal value)
        {
            parameter.DbType = DbType.Decimal;
            parameter.Value = value;
        }

        public override decimal Parse(object value) => Http.Amounts.Normalised(value switch
        {
            string text => decimal.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
            _ => Convert.ToDecimal(value, CultureInfo.InvariantCulture),
        });
    }

    /// <summary>
    /// A score or a ratio. SQLite keeps a whole real (a score of exactly 1.0) as an integer and the next row's 0.98 as a
    /// real; Dapper would read every row the way it read the first and fail on the second. Read through the handler,
    /// each value is converted on its own.
    /// </summary>
    private sealed class Real : SqlMapper.TypeHandler<double>
    {
        public override void SetValue(IDbDataParameter parameter, double value)
        {
            parameter.DbType = DbType.Double;
            parameter.Value = value;
        }

        public override double Parse(object value) => value switch
        {
            double d => d,
            string s => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture),
            _ => Convert.ToDouble(value, CultureInfo.InvariantCulture),
        };
    }

    private sealed class UtcInstant : SqlMapper.TypeHandler<DateTimeOffset>
    {
        public override void SetValue(IDbDataParameter parameter, DateTimeOffset value)
        {
            parameter.DbType = DbType.DateTimeOffset;
            parameter.Value = value.ToUniversalTime();
        }

        public override DateTimeOffset Parse(object value) => value switch
        {
            DateTimeOffset d => d.ToUniversalTime(),
            DateTime d => new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Utc)),
            string s => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUniversalTime(),
            _ => throw new DataException($"Cannot read a {value.GetType().Name} as an instant."),
        };
    }

    /// <summary>A DATE column: SQLite hands back the ISO text it stored, SQL Server a date.</summary>
    private sealed class CalendarDay : SqlMapper.TypeHandler<DateOnly>
    {
        public override void SetValue(IDbDataParameter parameter, DateOnly value)
        {
            parameter.DbType = DbType.Date;
            parameter.Value = value;
        }

        public override DateOnly Parse(object value) => value switch
        {
            DateOnly d => d,
            DateTime d => DateOnly.FromDateTime(d),
            string s => DateOnly.Parse(s, CultureInfo.InvariantCulture),
            _ => throw new DataException($"Cannot read a {value.GetType().Name} as a date."),
        };
    }
}
