package dev.siteward.gateway.mqtt;

import dev.siteward.pki.CertificateProfile;
import dev.siteward.pki.IssueRequest;
import dev.siteward.pki.IssuedCertificate;
import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.PemCodec;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.SecureFiles;
import dev.siteward.pki.ca.SiteCa;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a working configuration for an external Mosquitto 2.0 broker: {@code mosquitto.conf} (one TLS listener,
 * TLS 1.2+, AEAD suites, {@code require_certificate}, {@code use_identity_as_username} — the certificate CN is the
 * device id — a CRL, the ACL file and the dynamic-security plugin the gateway uses to cut sessions off), {@code acl}
 * (generated from {@link TopicRights}), {@code ca.pem} (root and issuing CAs), {@code server.pem} /
 * {@code server-key.pem} (a server certificate of its own from the site CA, key PKCS#8 PEM), {@code crl.pem} and
 * {@code dynamic-security.json}. Files are world-readable except the key (0600) and the plugin state (0600), which —
 * when run as root — belong to the broker's user.
 */
public final class MosquittoFiles {

    /** Debian's path of the dynamic-security plugin. */
    public static final String DEFAULT_PLUGIN = "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so";

    /**
     * What to write.
     *
     * @param port         the listener port
     * @param bindAddress  the listener address, or null for all
     * @param serverNames  the broker's host names and addresses (first is the CN)
     * @param runAsUser    the user mosquitto runs as ({@code user} option); owns the key when run as root
     * @param plugin       path of the dynamic-security plugin
     * @param serviceNames service identities with the gateway's rights and access to the control topic
     */
    public record Options(int port, String bindAddress, List<String> serverNames, String runAsUser, String plugin,
                          List<String> serviceNames) {
    }

    private MosquittoFiles() {
    }

    /** Writes every file into {@code out} (created if missing); returns the files written. */
    public static List<Path> write(Path out, SiteCa ca, Options options)
            throws IOException, GeneralSecurityException, PkiException {
        Path dir = out.toAbsolutePath();
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        KeyPair keys = KeyMaterial.generate(KeyMaterial.Algorithm.EC_P256);
        List<String> names = new ArrayList<>(options.serverNames());
        String primary = names.remove(0);
        IssuedCertificate issued = ca.issue(new IssueRequest(KeyMaterial.certificationRequest(keys, primary),
                CertificateProfile.SERVER, primary, names.stream().filter(n -> !isIp(n)).toList(),
                names.stream().filter(MosquittoFiles::isIp).toList(), null, null));
        List<Path> written = new ArrayList<>();
        Path key = dir.resolve("server-key.pem");
        SecureFiles.writeAtomically(key, KeyMaterial.toPem(keys.getPrivate()).getBytes(StandardCharsets.US_ASCII),
                true);
        written.add(key);
        written.add(write(dir.resolve("server.pem"), PemCodec.certificates(ca.servedChain(issued.certificate()))));
        List<X509Certificate> cas = new ArrayList<>();
        cas.addAll(ca.trustedRoots());
        cas.addAll(ca.issuingCertificates());
        written.add(write(dir.resolve("ca.pem"), PemCodec.certificates(cas)));
        written.add(write(dir.resolve("crl.pem"), crlPem(ca)));
        written.add(write(dir.resolve("acl"), acl(options.serviceNames())));
        Path dynsec = dir.resolve("dynamic-security.json");
        SecureFiles.writeAtomically(dynsec, DYNSEC_STATE.getBytes(StandardCharsets.UTF_8), true);
        written.add(dynsec);
        written.add(write(dir.resolve("mosquitto.conf"), conf(dir, options)));
        if (isRoot() && options.runAsUser() != null && !options.runAsUser().equals("root")) {
            try {
                UserPrincipal owner = dir.getFileSystem().getUserPrincipalLookupService()
                        .lookupPrincipalByName(options.runAsUser());
                Files.setOwner(key, owner);
                Files.setOwner(dynsec, owner);
            } catch (UserPrincipalNotFoundException e) {
                throw new IOException("no user '" + options.runAsUser() + "' on this host (is mosquitto installed?)");
            }
        }
        return written;
    }

    /** Every CRL a broker needs: each trusted root's and each trusted issuing generation's, PEM. */
    public static String crlPem(SiteCa ca) throws PkiException {
        StringBuilder pem = new StringBuilder();
        for (X509CRL rootCrl : ca.rootCrls()) {
            pem.append(PemCodec.crl(rootCrl));
        }
        for (X509Certificate issuing : ca.issuingCertificates()) {
            X509CRL crl = ca.crlOf(issuing);
            if (crl != null) {
                pem.append(PemCodec.crl(crl));
            }
        }
        return pem.toString();
    }

    /** The ACL: the services' rights and control-topic access, then one pattern that gives each device its prefix. */
    static String acl(List<String> serviceNames) {
        StringBuilder b = new StringBuilder("""
                # written by 'siteward mqtt mosquitto-config'. The username is the client certificate's CN: a device's
                # id, or a service name. Mosquitto 2.0 accepts any SUBSCRIBE but delivers only what 'read' allows.
                """);
        for (String s : serviceNames) {
            b.append("\nuser ").append(s).append('\n')
                    .append("topic read ").append(TopicRights.READINGS_FILTER).append('\n')
                    .append("topic write ").append(TopicRights.SENSORS).append("+/#\n")
                    .append("topic readwrite $CONTROL/dynamic-security/#\n");
        }
        b.append("\n# every device: only its own prefix\npattern readwrite ").append(TopicRights.SENSORS)
                .append("%u/#\n");
        return b.toString();
    }

    static String conf(Path dir, Options o) {
        return """
                # written by 'siteward mqtt mosquitto-config'; see docs/mqtt.md ("External broker")
                per_listener_settings false
                user %s
                pid_file %s
                persistence false
                allow_anonymous false
                # small MQTT packets go out at once (Nagle would hold them behind delayed TCP acknowledgements)
                set_tcp_nodelay true

                listener %d%s
                protocol mqtt
                cafile %s
                certfile %s
                keyfile %s
                crlfile %s
                require_certificate true
                use_identity_as_username true
                tls_version tlsv1.2
                ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305
                ciphers_tls1.3 TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256

                acl_file %s
                # the gateway disables (kicks) revoked clients through this plugin's control topic
                plugin %s
                plugin_opt_config_file %s
                """.formatted(o.runAsUser(), dir.resolve("mosquitto.pid"), o.port(),
                o.bindAddress() == null ? "" : " " + o.bindAddress(), dir.resolve("ca.pem"), dir.resolve("server.pem"),
                dir.resolve("server-key.pem"), dir.resolve("crl.pem"), dir.resolve("acl"), o.plugin(),
                dir.resolve("dynamic-security.json"));
    }

    /** The plugin's state: no clients, no roles, everything denied by default (the ACL file decides). */
    static final String DYNSEC_STATE = """
            {"defaultACLAccess":{"publishClientSend":false,"publishClientReceive":false,"subscribe":false,\
            "unsubscribe":false},"clients":[],"groups":[],"roles":[]}
            """;

    private static Path write(Path file, String content) throws IOException {
        SecureFiles.writeAtomically(file, content, false);
        return file;
    }

    static boolean isIp(String s) {
        return s.matches("\\d{1,3}(\\.\\d{1,3}){3}") || (s.contains(":") && s.matches("[0-9a-fA-F:.]+"));
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }
}
