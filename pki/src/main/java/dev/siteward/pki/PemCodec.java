package dev.siteward.pki;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.security.cert.CRLException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;
import org.bouncycastle.util.io.pem.PemWriter;

/** Reads and writes PEM (RFC 7468) certificates, CRLs and CSRs. */
public final class PemCodec {

    private PemCodec() {
    }

    public static String encode(String type, byte[] der) {
        StringWriter out = new StringWriter();
        try (PemWriter writer = new PemWriter(out)) {
            writer.writeObject(new PemObject(type, der));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toString();
    }

    public static String certificates(List<X509Certificate> chain) {
        StringBuilder sb = new StringBuilder();
        for (X509Certificate c : chain) {
            try {
                sb.append(encode("CERTIFICATE", c.getEncoded()));
            } catch (CertificateEncodingException e) {
                throw new IllegalStateException(e);
            }
        }
        return sb.toString();
    }

    public static String crl(X509CRL crl) {
        try {
            return encode("X509 CRL", crl.getEncoded());
        } catch (CRLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** All PEM blocks of the given type, in order; other block types are skipped. */
    public static List<byte[]> decodeAll(String pem, String type) throws IOException {
        List<byte[]> blocks = new ArrayList<>();
        try (PemReader reader = new PemReader(new StringReader(pem))) {
            PemObject object;
            while ((object = reader.readPemObject()) != null) {
                if (object.getType().equals(type)) {
                    blocks.add(object.getContent());
                }
            }
        }
        return blocks;
    }

    /** Parses every CERTIFICATE block; throws {@link CertificateException} when none is present or one is bad. */
    public static List<X509Certificate> parseCertificates(String pem) throws CertificateException {
        List<X509Certificate> certs = new ArrayList<>();
        try {
            for (byte[] der : decodeAll(pem, "CERTIFICATE")) {
                certs.add(Certificates.parse(der));
            }
        } catch (IOException e) {
            throw new CertificateException("malformed PEM: " + e.getMessage(), e);
        }
        if (certs.isEmpty()) {
            throw new CertificateException("no CERTIFICATE block found");
        }
        return certs;
    }

    public static X509CRL parseCrl(String pem) throws CRLException {
        try {
            List<byte[]> blocks = decodeAll(pem, "X509 CRL");
            if (blocks.isEmpty()) {
                throw new CRLException("no X509 CRL block found");
            }
            return Certificates.parseCrl(blocks.get(0));
        } catch (IOException e) {
            throw new CRLException("malformed PEM: " + e.getMessage(), e);
        }
    }
}
