package dev.siteward.pki.ca;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.PkiException.Reason;
import dev.siteward.pki.RevocationReason;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A certificate registry kept as an append-only journal of JSON lines, fsynced before {@link #record} returns. The
 * file is allocated ahead with zeros, so an append rewrites allocated space and needs only a data sync.
 * Concurrent callers share one fsync (group commit): while one thread flushes, the others queue their lines and
 * the next flush writes them all. A torn last line (a crash mid-write) is cut off when the journal is opened; it
 * was never acknowledged, so its certificate was never handed out.
 */
public final class JournalCertificateRegistry implements CertificateRegistry {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Journal space is allocated ahead in steps of this many bytes. */
    static final long PREALLOCATE = 1 << 20;

    private final Path file;
    private final FileChannel channel;
    /** Where the content ends (the next append goes here) and how far the file is allocated; flusher only. */
    private long end;
    private long capacity;
    private final Object lock = new Object();
    private final Map<BigInteger, RegistryEntry> entries = new HashMap<>();
    private final Map<String, List<BigInteger>> byName = new HashMap<>();
    private final Set<BigInteger> reserved = new HashSet<>();
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private long appendedSeq;
    private long durableSeq;
    /** Issuances that reserved a serial and have not appended their line yet (others about to need a flush). */
    private int awaitingAppend;
    /**
     * How long a flush waits for issuances already under way to append their lines, so one fsync carries them all
     * (group commit). Zero wait when no other issuance is in flight, so a lone caller never waits.
     */
    static final long GROUP_COMMIT_WAIT_NANOS = 300_000;
    private boolean flushing;
    private IOException failure;

    private JournalCertificateRegistry(Path file, FileChannel channel) {
        this.file = file;
        this.channel = channel;
    }

    /** Opens (or creates, mode 0600) the journal and loads it, cutting off a torn last line. */
    public static JournalCertificateRegistry open(Path file) throws PkiException {
        try {
            if (!Files.exists(file)) {
                Files.createDirectories(file.toAbsolutePath().getParent());
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            }
            FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
            JournalCertificateRegistry registry = new JournalCertificateRegistry(file, ch);
            registry.load();
            return registry;
        } catch (IOException e) {
            throw new PkiException(Reason.STORAGE, "cannot open certificate registry " + file, e);
        }
    }

    private void load() throws IOException, PkiException {
        byte[] all = Files.readAllBytes(file);
        // the journal is preallocated with zeros: its content ends at the first NUL (JSON lines never hold one)
        int contentEnd = 0;
        while (contentEnd < all.length && all[contentEnd] != 0) {
            contentEnd++;
        }
        int start = 0;
        int lineNo = 0;
        long goodEnd = 0;
        for (int i = 0; i < contentEnd; i++) {
            if (all[i] != '\n') {
                continue;
            }
            lineNo++;
            String line = new String(all, start, i - start, StandardCharsets.UTF_8);
            try {
                apply(JSON.readTree(line));
            } catch (IOException | RuntimeException e) {
                throw new PkiException(Reason.STORAGE, "certificate registry " + file + " is corrupt at line "
                        + lineNo, e);
            }
            start = i + 1;
            goodEnd = start;
        }
        if (goodEnd < contentEnd) {
            // a line without its newline was never acknowledged: blank it out
            ByteBuffer zeros = ByteBuffer.allocate((int) (contentEnd - goodEnd));
            while (zeros.hasRemaining()) {
                channel.write(zeros, goodEnd + zeros.position());
            }
            channel.force(true);
        }
        end = goodEnd;
        capacity = all.length;
    }

    /**
     * Makes room for {@code bytes} more bytes by writing zeros ahead of the content (in {@link #PREALLOCATE} steps)
     * and syncing the file's new size once; appends then overwrite allocated blocks, so each one needs only a data
     * sync, not a metadata (journal) commit.
     */
    private void ensureCapacity(int bytes) throws IOException {
        if (end + bytes <= capacity) {
            return;
        }
        long newCapacity = Math.max(capacity + PREALLOCATE, end + bytes + PREALLOCATE);
        ByteBuffer zeros = ByteBuffer.allocate(64 * 1024);
        for (long pos = capacity; pos < newCapacity; pos += zeros.capacity()) {
            zeros.clear();
            zeros.limit((int) Math.min(zeros.capacity(), newCapacity - pos));
            while (zeros.hasRemaining()) {
                channel.write(zeros, pos + zeros.position());
            }
        }
        channel.force(true);
        capacity = newCapacity;
    }

    private void apply(JsonNode node) {
        String type = node.get("type").asText();
        BigInteger serial = new BigInteger(node.get("serial").asText(), 16);
        if (type.equals("issued")) {
            String profile = node.path("profile").asText(null);
            RegistryEntry e = new RegistryEntry(serial,
                    profile == null ? null : CertificateProfile.valueOf(profile),
                    node.get("name").asText(), node.path("role").asText(null),
                    Instant.parse(node.get("notBefore").asText()), Instant.parse(node.get("notAfter").asText()),
                    Base64.getDecoder().decode(node.get("der").asText()), null, null);
            index(e);
        } else if (type.equals("revoked")) {
            RegistryEntry e = entries.get(serial);
            if (e == null) {
                throw new IllegalStateException("revocation of unknown serial " + serial.toString(16));
            }
            entries.put(serial, e.withRevocation(Instant.parse(node.get("at").asText()),
                    RevocationReason.valueOf(node.get("reason").asText())));
        } else {
            throw new IllegalStateException("unknown entry type " + type);
        }
    }

    private void index(RegistryEntry e) {
        entries.put(e.serial(), e);
        byName.computeIfAbsent(key(e.profile(), e.name()), k -> new ArrayList<>()).add(e.serial());
    }

    private static String key(CertificateProfile profile, String name) {
        return (profile == null ? "ca" : profile.name()) + "/" + name;
    }

    @Override
    public boolean serialTaken(BigInteger serial) {
        synchronized (lock) {
            return entries.containsKey(serial) || reserved.contains(serial);
        }
    }

    @Override
    public boolean reserveSerial(BigInteger serial) {
        synchronized (lock) {
            boolean ok = !entries.containsKey(serial) && reserved.add(serial);
            if (ok) {
                awaitingAppend++;
            }
            return ok;
        }
    }

    @Override
    public void releaseSerial(BigInteger serial) {
        synchronized (lock) {
            if (reserved.remove(serial) && awaitingAppend > 0) {
                // released without ever appending (the issuance failed)
                awaitingAppend--;
            }
        }
    }

    @Override
    public void record(RegistryEntry entry) throws PkiException {
        // written by hand: this is on the issuance hot path, and every field is hex, base64, an enum name, an
        // ISO-8601 instant or an escaped string
        StringBuilder line = new StringBuilder(entry.der().length * 4 / 3 + 256);
        line.append("{\"type\":\"issued\",\"serial\":\"").append(entry.serial().toString(16)).append('"');
        if (entry.profile() != null) {
            line.append(",\"profile\":\"").append(entry.profile().name()).append('"');
        }
        line.append(",\"name\":");
        quote(line, entry.name());
        if (entry.role() != null) {
            line.append(",\"role\":");
            quote(line, entry.role());
        }
        line.append(",\"notBefore\":\"").append(entry.notBefore()).append("\",\"notAfter\":\"")
                .append(entry.notAfter()).append("\",\"der\":\"")
                .append(Base64.getEncoder().encodeToString(entry.der())).append("\"}\n");
        append(line.toString().getBytes(StandardCharsets.UTF_8), reservedSerial(entry.serial()));
        synchronized (lock) {
            reserved.remove(entry.serial());
            index(entry);
        }
    }

    /** Appends a JSON string literal (RFC 8259 section 7). */
    static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        sb.append('"');
    }

    @Override
    public RegistryEntry revoke(BigInteger serial, RevocationReason reason, Instant at) throws PkiException {
        RegistryEntry current;
        synchronized (lock) {
            current = entries.get(serial);
        }
        if (current == null) {
            throw new PkiException(Reason.NOT_FOUND, "no certificate with serial " + serial.toString(16));
        }
        if (current.revoked()) {
            throw new PkiException(Reason.ALREADY_REVOKED, "certificate " + serial.toString(16) + " is already revoked");
        }
        ObjectNode node = JSON.createObjectNode();
        node.put("type", "revoked");
        node.put("serial", serial.toString(16));
        node.put("reason", reason.name());
        node.put("at", at.toString());
        try {
            append((JSON.writeValueAsString(node) + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new PkiException(Reason.INTERNAL, "cannot encode registry entry", e);
        }
        RegistryEntry updated = current.withRevocation(at, reason);
        synchronized (lock) {
            entries.put(serial, updated);
        }
        return updated;
    }

    private boolean reservedSerial(BigInteger serial) {
        synchronized (lock) {
            return reserved.contains(serial);
        }
    }

    private void append(byte[] line) throws PkiException {
        append(line, false);
    }

    /**
     * Appends one line and returns once it is on disk; concurrent callers share the fsync.
     *
     * @param ofReservedSerial the line records an issuance that reserved its serial (counted in awaitingAppend)
     */
    private void append(byte[] line, boolean ofReservedSerial) throws PkiException {
        long mySeq;
        synchronized (lock) {
            failIfBroken();
            pending.writeBytes(line);
            mySeq = ++appendedSeq;
            if (ofReservedSerial && awaitingAppend > 0) {
                awaitingAppend--;
            }
            lock.notifyAll();
        }
        while (true) {
            byte[] batch;
            long upTo;
            synchronized (lock) {
                while (flushing && durableSeq < mySeq && failure == null) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new PkiException(Reason.STORAGE, "interrupted while recording a certificate", e);
                    }
                }
                failIfBroken();
                if (durableSeq >= mySeq) {
                    return;
                }
                flushing = true;
                long deadline = System.nanoTime() + GROUP_COMMIT_WAIT_NANOS;
                while (awaitingAppend > 0 && failure == null) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    try {
                        lock.wait(left / 1_000_000, (int) (left % 1_000_000));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
                batch = pending.toByteArray();
                pending.reset();
                upTo = appendedSeq;
            }
            IOException error = null;
            try {
                ensureCapacity(batch.length);
                ByteBuffer buf = ByteBuffer.wrap(batch);
                while (buf.hasRemaining()) {
                    channel.write(buf, end + buf.position());
                }
                channel.force(false);
                end += batch.length;
            } catch (IOException e) {
                error = e;
            }
            synchronized (lock) {
                flushing = false;
                if (error != null) {
                    // fail closed: what is on disk is unknown, so nothing more is acknowledged until reopened
                    failure = error;
                } else {
                    durableSeq = upTo;
                }
                lock.notifyAll();
            }
        }
    }

    private void failIfBroken() throws PkiException {
        if (failure != null) {
            throw new PkiException(Reason.STORAGE, "certificate registry " + file + " failed a write: "
                    + failure.getMessage(), failure);
        }
    }

    @Override
    public Optional<RegistryEntry> find(BigInteger serial) {
        synchronized (lock) {
            return Optional.ofNullable(entries.get(serial));
        }
    }

    @Override
    public List<RegistryEntry> findByName(CertificateProfile profile, String name) {
        synchronized (lock) {
            List<RegistryEntry> out = new ArrayList<>();
            for (BigInteger s : byName.getOrDefault(key(profile, name), List.of())) {
                out.add(entries.get(s));
            }
            out.sort(Comparator.comparing(RegistryEntry::notBefore));
            return out;
        }
    }

    @Override
    public List<RegistryEntry> findByProfile(CertificateProfile profile) {
        synchronized (lock) {
            List<RegistryEntry> out = new ArrayList<>();
            for (RegistryEntry e : entries.values()) {
                if (e.profile() == profile) {
                    out.add(e);
                }
            }
            out.sort(Comparator.comparing(RegistryEntry::notBefore).thenComparing(RegistryEntry::serial));
            return out;
        }
    }

    @Override
    public List<RegistryEntry> revoked() {
        synchronized (lock) {
            List<RegistryEntry> out = new ArrayList<>();
            for (RegistryEntry e : entries.values()) {
                if (e.revoked()) {
                    out.add(e);
                }
            }
            out.sort(Comparator.comparing(RegistryEntry::revokedAt).thenComparing(RegistryEntry::serial));
            return out;
        }
    }

    @Override
    public int size() {
        synchronized (lock) {
            return entries.size();
        }
    }

    @Override
    public void close() throws PkiException {
        try {
            channel.close();
        } catch (IOException e) {
            throw new PkiException(Reason.STORAGE, "cannot close certificate registry", e);
        }
    }
}
