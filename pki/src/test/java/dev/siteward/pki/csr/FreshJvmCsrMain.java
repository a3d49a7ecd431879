package dev.siteward.pki.csr;

import java.nio.file.Files;
import java.nio.file.Path;

/** Validates the DER CSR in {@code args[0]} as the first thing a fresh JVM does; prints {@code KEY <algorithm>}. */
public final class FreshJvmCsrMain {

    private FreshJvmCsrMain() {
    }

    public static void main(String[] args) throws Exception {
        ValidatedCsr csr = CsrValidator.validate(Files.readAllBytes(Path.of(args[0])));
        System.out.println("KEY " + csr.publicKey().getAlgorithm());
    }
}
