package dev.siteward.gateway.server;

import dev.siteward.gateway.audit.AuditTrail;
import dev.siteward.gateway.authentication.ClientCertificateVerifier;
import dev.siteward.gateway.devices.DeviceRegistry;
import dev.siteward.gateway.enrollment.EnrollmentService;
import dev.siteward.gateway.enrollment.EnrollmentTokens;
import dev.siteward.gateway.enrollment.IdevidPolicy;
import dev.siteward.gateway.revocation.RevocationService;
import dev.siteward.gateway.store.DatabaseSettings;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.pki.Certificates;
import dev.siteward.pki.PemCodec;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.ca.CaSecrets;
import dev.siteward.pki.ca.SiteCa;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Value;
import io.micronaut.context.event.BeanCreatedEvent;
import io.micronaut.context.event.BeanCreatedEventListener;
import io.micronaut.context.exceptions.ConfigurationException;
import io.micronaut.http.server.netty.NettyServerCustomizer;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.net.ssl.SSLException;

/** Wires the gateway's services from its configuration: one instance of each, for the server's lifetime. */
@Factory
public class GatewayBeans {

    @Singleton
    Clock clock() {
        return Clock.systemUTC();
    }

    @Singleton
    @Bean(preDestroy = "close")
    SiteCa siteCa(SitewardConfiguration config, Clock clock,
                  @Value("${siteward.ca-passphrase-file:}") String passphraseFile,
                  @Value("${siteward.pkcs11-pin-file:}") String pinFile) {
        try {
            SiteCa ca = SiteCa.open(dataDir(config), new CaSecrets(secret(passphraseFile, "SITEWARD_CA_PASSPHRASE"),
                    secret(pinFile, "SITEWARD_PKCS11_PIN")), clock);
            ca.unlock();
            return ca;
        } catch (PkiException e) {
            throw new ConfigurationException(e.getMessage(), e);
        }
    }

    @Singleton
    @Bean(preDestroy = "close")
    GatewayStore store(SitewardConfiguration config, DatabaseConfiguration database) {
        try {
            DatabaseSettings settings = database.settings();
            settings.record(dataDir(config));
            return GatewayStore.open(dataDir(config), settings);
        } catch (IOException e) {
            throw new ConfigurationException("cannot record the database settings: " + e.getMessage(), e);
        } catch (StoreException e) {
            throw new ConfigurationException(e.getMessage(), e);
        }
    }

    @Singleton
    DeviceRegistry deviceRegistry(GatewayStore store, SiteCa ca, Clock clock) {
        return new DeviceRegistry(store, ca.registry(), clock);
    }

    @Singleton
    GatewayCredentials credentials(SitewardConfiguration config, SiteCa ca, Clock clock) {
        try {
            return GatewayCredentials.ensure(dataDir(config), ca, serverNames(config), clock);
        } catch (IOException | PkiException | GeneralSecurityException e) {
            throw new ConfigurationException("cannot set up the gateway's credentials: " + e.getMessage(), e);
        }
    }

    @Singleton
    EnrollmentTokens enrollmentTokens(GatewayStore store, Clock clock, GatewayCredentials credentials, SiteCa ca) {
        return new EnrollmentTokens(store, clock, (ECPrivateKey) credentials.tokenKey().getPrivate(),
                (ECPublicKey) credentials.tokenKey().getPublic(), credentials.tokenKeyId(),
                Certificates.fingerprint(ca.root()));
    }

    @Singleton
    ClientCertificateVerifier clientCertificateVerifier(SiteCa ca, DeviceRegistry devices, Clock clock) {
        return new ClientCertificateVerifier(ca::issuingCertificates, ca.registry(), devices,
                ca.trustDomain(), clock);
    }

    @Singleton
    IdevidPolicy idevidPolicy(SitewardConfiguration config) {
        List<X509Certificate> anchors = List.of();
        if (config.getIdevidAnchors() != null && !config.getIdevidAnchors().isBlank()) {
            try {
                anchors = PemCodec.parseCertificates(Files.readString(Path.of(config.getIdevidAnchors())));
            } catch (IOException | CertificateException e) {
                throw new ConfigurationException("siteward.idevid-anchors: cannot read manufacturer CAs from "
                        + config.getIdevidAnchors() + ": " + e.getMessage(), e);
            }
        }
        String idFrom = config.getIdevidIdFrom().toLowerCase(Locale.ROOT);
        if (!idFrom.equals("cn") && !idFrom.equals("serial-number")) {
            throw new ConfigurationException("siteward.idevid-id-from must be cn or serial-number");
        }
        return new IdevidPolicy(anchors, idFrom, config.isIdevidAllowUnregistered());
    }

    @Singleton
    EnrollmentService enrollmentService(SiteCa ca, GatewayStore store, DeviceRegistry devices,
                                        EnrollmentTokens tokens, IdevidPolicy idevid,
                                        ClientCertificateVerifier verifier, Clock clock, AuditTrail audit) {
        return new EnrollmentService(ca, store, devices, tokens, idevid, verifier, clock, audit);
    }

    @Singleton
    ConnectionTracker connectionTracker() {
        return new ConnectionTracker();
    }

    @Singleton
    RevocationService revocationService(SiteCa ca, DeviceRegistry devices, ConnectionTracker tracker, Clock clock,
                                        AuditTrail audit) {
        return new RevocationService(ca, devices, tracker, clock, audit);
    }

    @Singleton
    TlsTermination tlsTermination(SitewardConfiguration config, GatewayCredentials credentials,
                                  ClientCertificateVerifier verifier, SiteCa ca, IdevidPolicy idevid,
                                  ConnectionTracker tracker) {
        try {
            return new TlsTermination(config.getEnrollPort(), config.getDevicePort(), credentials.serverKeys(),
                    verifier, () -> {
                        List<X509Certificate> issuers = new ArrayList<>();
                        issuers.addAll(ca.issuingCertificates());
                        issuers.addAll(idevid.anchors());
                        return issuers;
                    }, tracker);
        } catch (SSLException e) {
            throw new ConfigurationException("cannot set up TLS: " + e.getMessage(), e);
        }
    }

    /** Registers the TLS termination with the Netty server before it binds its listeners. */
    @Singleton
    static class TlsRegistration implements BeanCreatedEventListener<NettyServerCustomizer.Registry> {
        private final jakarta.inject.Provider<TlsTermination> tls;

        TlsRegistration(jakarta.inject.Provider<TlsTermination> tls) {
            this.tls = tls;
        }

        @Override
        public NettyServerCustomizer.Registry onCreated(BeanCreatedEvent<NettyServerCustomizer.Registry> event) {
            event.getBean().register(tls.get());
            return event.getBean();
        }
    }

    static Path dataDir(SitewardConfiguration config) {
        if (config.getDataDir() == null || config.getDataDir().isBlank()) {
            throw new ConfigurationException("siteward.data-dir is not set");
        }
        return Path.of(config.getDataDir());
    }

    /** The server certificate's names: advertised host, this host's names and addresses, loopback, extras. */
    static List<String> serverNames(SitewardConfiguration config) {
        Set<String> names = new LinkedHashSet<>();
        names.add(advertisedHost(config));
        names.add("localhost");
        names.add("127.0.0.1");
        names.add("::1");
        try {
            for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!nif.isUp()) {
                    continue;
                }
                for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                    if (!a.isLinkLocalAddress()) {
                        String h = a.getHostAddress();
                        int pct = h.indexOf('%');
                        names.add(pct < 0 ? h : h.substring(0, pct));
                    }
                }
            }
        } catch (IOException ignored) {
            // the loopback names above still work
        }
        names.addAll(config.getServerNames());
        return new ArrayList<>(names);
    }

    public static String advertisedHost(SitewardConfiguration config) {
        if (config.getAdvertisedHost() != null && !config.getAdvertisedHost().isBlank()) {
            return config.getAdvertisedHost().toLowerCase(Locale.ROOT);
        }
        try {
            return InetAddress.getLocalHost().getHostName().toLowerCase(Locale.ROOT);
        } catch (IOException e) {
            return "localhost";
        }
    }

    static char[] secret(String file, String env) {
        if (file != null && !file.isBlank()) {
            try {
                return Files.readString(Path.of(file)).lines().findFirst().orElse("").strip().toCharArray();
            } catch (IOException e) {
                throw new ConfigurationException("cannot read " + file);
            }
        }
        String v = System.getenv(env);
        return v == null || v.isEmpty() ? null : v.toCharArray();
    }
}
