package dev.siteward.pki.modelsig;

import dev.siteward.pki.KeyMaterial;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Verification throughput on a large single-file model next to {@code openssl dgst -sha256} on the same file, in the
 * same run. Not a unit test: run with {@code mvn -B -q -pl pki -Pbench-modelsig -DskipTests test}
 * (arguments: work directory, size in MiB, rounds). The file is written to the work directory and deleted at the end.
 */
public final class VerifyThroughputBench {

    private VerifyThroughputBench() {
    }

    public static void main(String[] args) throws Exception {
        Path base = Path.of(args.length > 0 ? args[0] : System.getProperty("java.io.tmpdir"));
        long mib = args.length > 1 ? Long.parseLong(args[1]) : 1024;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        boolean variants = args.length > 3 && args[3].equals("variants");
        Path dir = Files.createTempDirectory(base, "modelsig-bench-");
        Path file = dir.resolve("model.bin");
        try {
            System.out.printf(Locale.ROOT, "java %s (%s), %d cores; file %d MiB%n", System.getProperty("java.version"),
                    System.getProperty("java.vm.name"), Runtime.getRuntime().availableProcessors(), mib);
            write(file, mib);
            KeyPair keys = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
            long t0 = System.nanoTime();
            SignedModel signed = ModelSigner.withPublicKey(keys.getPrivate(), keys.getPublic())
                    .sign(ModelLocation.of(file));
            double signS = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "sign (hash + ECDSA P-256), first run: %.3f s%n", signS);
            ModelVerifier verifier = ModelVerifier.trustingKey(keys.getPublic());
            byte[] bundle = signed.bundle();
            String expected = signed.manifest().digests().get(".");

            List<Double> java = new ArrayList<>();
            List<Double> openssl = new ArrayList<>();
            List<Double> sha256sum = new ArrayList<>();
            // warm-up: page cache and JIT
            verifier.verify(ModelLocation.of(file), bundle).orThrow();
            openssl(file, expected);
            for (int i = 0; i < rounds; i++) {
                openssl.add(seconds(() -> openssl(file, expected)));
                java.add(seconds(() -> verifier.verify(ModelLocation.of(file), bundle).orThrow()));
                if (variants) {
                    sha256sum.add(seconds(() -> command(file, expected, "sha256sum")));
                }
            }
            double bytes = mib * 1024.0 * 1024.0;
            double javaRate = bytes / median(java) / 1e6;
            double opensslRate = bytes / median(openssl) / 1e6;
            System.out.printf(Locale.ROOT, "openssl dgst -sha256: median %.3f s = %.0f MB/s  (runs %s)%n",
                    median(openssl), opensslRate, fmt(openssl));
            System.out.printf(Locale.ROOT, "ModelVerifier.verify: median %.3f s = %.0f MB/s  (runs %s)%n",
                    median(java), javaRate, fmt(java));
            System.out.printf(Locale.ROOT, "ratio verify/openssl: %.1f%%%n", 100 * javaRate / opensslRate);
            if (variants) {
                System.out.printf(Locale.ROOT, "sha256sum: median %.3f s%n", median(sha256sum));
                variant("FileChannel + direct 1 MiB, one thread", file, rounds, expected, f -> directSized(f, 1 << 20));
                variant("FileHasher (implemented)", file, rounds, expected, FileHasher::sha256);
                variant("FileInputStream + heap 1 MiB", file, rounds, expected, VerifyThroughputBench::stream);
                variant("mmap 64 MiB windows", file, rounds, expected, VerifyThroughputBench::mmap);
                variant("pipelined reader thread + direct 1 MiB x4", file, rounds, expected,
                        VerifyThroughputBench::pipelined);
                variant("FileChannel + direct 4 MiB", file, rounds, expected, f -> directSized(f, 4 << 20));
                variant("FileChannel + direct 256 KiB", file, rounds, expected, f -> directSized(f, 256 << 10));
            }
        } finally {
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    interface Hasher {
        byte[] hash(Path file) throws Exception;
    }

    interface Action {
        void run() throws Exception;
    }

    private static void variant(String name, Path file, int rounds, String expected, Hasher h) throws Exception {
        List<Double> t = new ArrayList<>();
        h.hash(file);
        for (int i = 0; i < rounds; i++) {
            t.add(seconds(() -> {
                if (!HexFormat.of().formatHex(h.hash(file)).equals(expected)) {
                    throw new IllegalStateException(name + " digest differs");
                }
            }));
        }
        System.out.printf(Locale.ROOT, "  variant %-42s median %.3f s (runs %s)%n", name, median(t), fmt(t));
    }

    private static byte[] directSized(Path file, int size) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        ByteBuffer buffer = ByteBuffer.allocateDirect(size);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (true) {
                buffer.clear();
                if (ch.read(buffer) < 0) {
                    break;
                }
                buffer.flip();
                md.update(buffer);
            }
        }
        return md.digest();
    }

    private static byte[] pipelined(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        var free = new java.util.concurrent.ArrayBlockingQueue<ByteBuffer>(4);
        var full = new java.util.concurrent.ArrayBlockingQueue<ByteBuffer>(4);
        for (int i = 0; i < 4; i++) {
            free.add(ByteBuffer.allocateDirect(1 << 20));
        }
        ByteBuffer eof = ByteBuffer.allocate(0);
        Thread reader = new Thread(() -> {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                while (true) {
                    ByteBuffer b = free.take();
                    b.clear();
                    if (ch.read(b) < 0) {
                        full.put(eof);
                        return;
                    }
                    b.flip();
                    full.put(b);
                }
            } catch (Exception e) {
                full.offer(eof);
            }
        });
        reader.start();
        while (true) {
            ByteBuffer b = full.take();
            if (b == eof) {
                break;
            }
            md.update(b);
            free.put(b);
        }
        reader.join();
        return md.digest();
    }

    private static byte[] stream(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        return md.digest();
    }

    private static byte[] mmap(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            long window = 64L << 20;
            for (long pos = 0; pos < size; pos += window) {
                MappedByteBuffer m = ch.map(FileChannel.MapMode.READ_ONLY, pos, Math.min(window, size - pos));
                md.update(m);
            }
        }
        return md.digest();
    }

    private static void write(Path file, long mib) throws IOException {
        SplittableRandom random = new SplittableRandom(42);
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long i = 0; i < mib; i++) {
                buf.clear();
                while (buf.hasRemaining()) {
                    buf.putLong(random.nextLong());
                }
                buf.flip();
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
            }
        }
    }

    private static void openssl(Path file, String expected) throws Exception {
        command(file, expected, "openssl", "dgst", "-sha256", "-r");
    }

    private static void command(Path file, String expected, String... cmd) throws Exception {
        List<String> all = new ArrayList<>(List.of(cmd));
        all.add(file.toString());
        Process p = new ProcessBuilder(all).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        if (p.waitFor() != 0 || !out.startsWith(expected)) {
            throw new IllegalStateException(String.join(" ", cmd) + " printed: " + out);
        }
    }

    private static double seconds(Action a) throws Exception {
        long t0 = System.nanoTime();
        a.run();
        return (System.nanoTime() - t0) / 1e9;
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    private static String fmt(List<Double> xs) {
        return xs.stream().map(x -> String.format(Locale.ROOT, "%.3f", x)).toList().toString();
    }
}
