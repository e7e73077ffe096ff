using System.Buffers.Binary;

namespace PartnerDeals.Api.Infrastructure.Data;

/// <summary>
/// New ids: UUIDv7, so text order is creation order for keyset pages and audit trails. Guid.CreateVersion7
/// alone is random within one millisecond; these also increase strictly within the process, so two events
/// written in the same millisecond (or while a test's clock stands still) keep the order they happened in.
/// </summary>
public static class Ids
{
    private static readonly Lock Gate = new();
    private static UInt128 _last;

    public static Guid New(DateTimeOffset now)
    {
        var bytes = Guid.CreateVersion7(now).ToByteArray(bigEndian: true);
        var candidate = BinaryPrimitives.ReadUInt128BigEndian(bytes);
        lock (Gate)
        {
            // +1 lands in the random low bits: the timestamp, version and variant stay as they are.
            if (candidate <= _last) candidate = _last + 1;
            _last = candidate;
        }
        BinaryPrimitives.WriteUInt128BigEndian(bytes, candidate);
        return new Guid(bytes, bigEndian: true);
    }
}
