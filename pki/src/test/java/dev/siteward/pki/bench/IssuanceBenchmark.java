package dev.siteward.pki.bench;

import dev.siteward.pki.CryptoProviders;
import dev.siteward.pki.IssueRequest;
import dev.siteward.pki.KeyType;
import dev.siteward.pki.ca.CaInitOptions;
import dev.siteward.pki.ca.CaKind;
import dev.siteward.pki.ca.CaSecrets;
import dev.siteward.pki.ca.SiteCa;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.Security;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * Issuance throughput (CSR check + sign + durable registry write) with 1 and 2 threads, next to the crypto limit
 * measured in the same JVM: one ECDSA P-256 verify plus one sign, back to back, with the fastest provider present.
 * Run: {@code mvn -B -q -pl pki -Pbench verify} (see docs/benchmarks.md).
 */
public final class IssuanceBenchmark {

    private static final double SECONDS = Double.parseDouble(System.getProperty("bench.seconds", "8"));

    public static void main(String[] args) throws Exception {
        System.out.println("JDK: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        System.out.println("cores: " + Runtime.getRuntime().availableProcessors());
        byte[] message = new byte[300];
        new java.util.Random(1).nextBytes(message);
        double best = 0;
        double bestSameKey = 0;
        String bestName = "";
        boolean profileOnly = Boolean.getBoolean("bench.issuanceOnly");
        for (Provider p : profileOnly ? List.<Provider>of()
                : List.of(CryptoProviders.bouncyCastle(), Security.getProvider("SunEC"))) {
            double fresh = cryptoLimit(p, message, true);
            double same = cryptoLimit(p, message, false);
            System.out.printf("crypto limit (P-256 verify + sign), %s: %.0f pairs/s verifying a new key each time "
                    + "(as every CSR is), %.0f pairs/s re-verifying one key object%n", p.getName(), fresh, same);
            if (fresh > best) {
                best = fresh;
                bestName = p.getName();
            }
            bestSameKey = Math.max(bestSameKey, same);
        }
        List<byte[]> csrs = csrs(64);
        Path dir = Files.createTempDirectory("siteward-bench");
        try (SiteCa ca = SiteCa.initialize(dir, CaInitOptions.defaults(CaKind.SITE),
                new CaSecrets("bench-passphrase".toCharArray(), null), Clock.systemUTC())) {
            ca.unlock();
            issue(ca, csrs, 1, 3); // warm-up
            double one = issue(ca, csrs, 1, SECONDS);
            issue(ca, csrs, 2, 2);
            double two = issue(ca, csrs, 2, SECONDS);
            System.out.printf("issuance, 1 thread: %.0f certificates/s%n", one);
            System.out.printf("issuance, 2 threads: %.0f certificates/s%n", two);
            System.out.printf("fastest crypto provider: %s, %.0f pairs/s (new key per verify)%n", bestName, best);
            System.out.printf("ratio 1 thread / crypto limit: %.2f (target >= 0.40)%n", one / best);
            System.out.printf("ratio 1 thread / same-key crypto figure: %.2f (BouncyCastle caches the "
                    + "precomputation of a key object it verified before; no CSR benefits from it)%n", one / bestSameKey);
            System.out.printf("ratio 2 threads / 1 thread: %.2f (target >= 1.70)%n", two / one);
            System.out.printf("registry entries: %d%n", ca.registry().size());
        } finally {
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /**
     * One P-256 verify plus one sign, back to back, on one thread. With {@code freshKeys} each verify uses a public
     * key decoded from its encoding (64 keys in turn), as the CA meets each CSR's key for the first time; without
     * it, one key object is verified again and again, which lets BouncyCastle reuse its cached precomputation.
     */
    private static double cryptoLimit(Provider provider, byte[] message, boolean freshKeys) throws Exception {
        KeyPairGenerator gen = KeyPairGenerator.getInstance("EC", provider);
        gen.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair signing = gen.generateKeyPair();
        int n = 64;
        byte[][] spki = new byte[n][];
        byte[][] sigs = new byte[n][];
        for (int i = 0; i < n; i++) {
            KeyPair kp = gen.generateKeyPair();
            Signature s = Signature.getInstance("SHA256withECDSA", provider);
            s.initSign(kp.getPrivate());
            s.update(message);
            sigs[i] = s.sign();
            spki[i] = kp.getPublic().getEncoded();
        }
        java.security.KeyFactory kf = java.security.KeyFactory.getInstance("EC", provider);
        java.security.PublicKey fixed = kf.generatePublic(new java.security.spec.X509EncodedKeySpec(spki[0]));
        Signature signer = Signature.getInstance("SHA256withECDSA", provider);
        Signature verifier = Signature.getInstance("SHA256withECDSA", provider);
        for (int phase = 0; phase < 2; phase++) {
            double seconds = phase == 0 ? 2 : SECONDS;
            long count = 0;
            long start = System.nanoTime();
            long deadline = start + (long) (seconds * 1e9);
            while (System.nanoTime() < deadline) {
                int i = freshKeys ? (int) (count % n) : 0;
                java.security.PublicKey key = freshKeys
                        ? kf.generatePublic(new java.security.spec.X509EncodedKeySpec(spki[i])) : fixed;
                verifier.initVerify(key);
                verifier.update(message);
                if (!verifier.verify(sigs[i])) {
                    throw new IllegalStateException();
                }
                signer.initSign(signing.getPrivate());
                signer.update(message);
                signer.sign();
                count++;
            }
            if (phase == 1) {
                return count / ((System.nanoTime() - start) / 1e9);
            }
        }
        return 0;
    }

    private static List<byte[]> csrs(int n) throws Exception {
        KeyPairGenerator gen = KeyPairGenerator.getInstance("EC", CryptoProviders.bouncyCastle());
        gen.initialize(new ECGenParameterSpec(KeyType.P256.curve()));
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            KeyPair kp = gen.generateKeyPair();
            out.add(new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=bench-" + i), kp.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").setProvider(CryptoProviders.bouncyCastle())
                            .build(kp.getPrivate())).getEncoded());
        }
        return out;
    }

    private static double issue(SiteCa ca, List<byte[]> csrs, int threads, double seconds) throws Exception {
        AtomicLong done = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch ready = new CountDownLatch(threads);
        List<Thread> workers = new ArrayList<>();
        List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread w = new Thread(() -> {
                ready.countDown();
                int i = id;
                try {
                    while (!stop.get()) {
                        ca.issue(IssueRequest.device(csrs.get(i % csrs.size()), "bench-" + (i % 1000)));
                        done.incrementAndGet();
                        i += threads;
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            });
            workers.add(w);
            w.start();
        }
        ready.await();
        long start = System.nanoTime();
        long startCount = done.get();
        Thread.sleep((long) (seconds * 1000));
        long count = done.get() - startCount;
        double elapsed = (System.nanoTime() - start) / 1e9;
        stop.set(true);
        for (Thread w : workers) {
            w.join();
        }
        if (!errors.isEmpty()) {
            throw new IllegalStateException("issuance failed", errors.get(0));
        }
        return count / elapsed;
    }
}
