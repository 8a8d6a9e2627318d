package dev.syllabus.starter;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.HandlerRegistry;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TLS-terminating gRPC proxy in front of a plain Temporal frontend, as a load balancer or
 * Temporal Cloud's edge stands in front of one: it serves TLS with a server certificate, optionally
 * requires a client certificate signed by a given CA (mTLS), optionally requires {@code
 * authorization: Bearer <key>} (API key, UNAUTHENTICATED otherwise), and forwards every call as raw
 * bytes to the upstream, whatever its service.
 */
final class TlsProxy implements AutoCloseable {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  private final ManagedChannel upstream;
  private final Server server;
  private final AtomicInteger forwarded = new AtomicInteger();
  private final AtomicInteger refused = new AtomicInteger();
  private final Set<String> authorizations = ConcurrentHashMap.newKeySet();

  /**
   * @param upstream the plain frontend, host:port
   * @param server the proxy's certificate and key
   * @param clientCa the CA client certificates must be signed by; null: no client certificate
   * @param apiKey the key calls must carry as a bearer token; null: none
   */
  TlsProxy(String upstream, TestCertificates.Issued server, Path clientCa, String apiKey)
      throws IOException {
    this.upstream = ManagedChannelBuilder.forTarget(upstream).usePlaintext().build();
    SslContextBuilder tls =
        GrpcSslContexts.forServer(server.cert().toFile(), server.key().toFile());
    if (clientCa != null) {
      tls.trustManager(clientCa.toFile()).clientAuth(ClientAuth.REQUIRE);
    }
    this.server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .sslContext(tls.build())
            .fallbackHandlerRegistry(new Forwarding())
            .intercept(apiKeyCheck(apiKey))
            .build()
            .start();
  }

  /** Where clients connect: localhost, the name the server certificate is made out to. */
  String address() {
    return "localhost:" + server.getPort();
  }

  /** Calls forwarded to the upstream. */
  int forwarded() {
    return forwarded.get();
  }

  /** Calls refused for a missing or wrong API key. */
  int refused() {
    return refused.get();
  }

  /** Every distinct {@code authorization} header the proxy saw. */
  Set<String> authorizations() {
    return Set.copyOf(authorizations);
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow();
    upstream.shutdownNow();
    server.awaitTermination(10, TimeUnit.SECONDS);
    upstream.awaitTermination(10, TimeUnit.SECONDS);
  }

  private ServerInterceptor apiKeyCheck(String apiKey) {
    return new ServerInterceptor() {
      @Override
      public <Q, A> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        String authorization = headers.get(AUTHORIZATION);
        if (authorization != null) {
          authorizations.add(authorization);
        }
        if (apiKey != null && !("Bearer " + apiKey).equals(authorization)) {
          refused.incrementAndGet();
          call.close(
              Status.UNAUTHENTICATED.withDescription("the API key is not valid"), new Metadata());
          return new ServerCall.Listener<>() {};
        }
        return next.startCall(call, headers);
      }
    };
  }

  /** Every method, whatever its name, forwarded upstream as bytes. */
  private final class Forwarding extends HandlerRegistry {
    @Override
    public ServerMethodDefinition<?, ?> lookupMethod(String methodName, String authority) {
      MethodDescriptor<byte[], byte[]> method =
          MethodDescriptor.newBuilder(BYTES, BYTES)
              .setFullMethodName(methodName)
              .setType(MethodDescriptor.MethodType.UNKNOWN)
              .build();
      return ServerMethodDefinition.create(
          method, (call, headers) -> forward(method, call, headers));
    }
  }

  /**
   * One call: the client's messages go upstream, the upstream's answers come back, one message at a
   * time in each direction; the deadline and a cancel carry over.
   */
  private ServerCall.Listener<byte[]> forward(
      MethodDescriptor<byte[], byte[]> method, ServerCall<byte[], byte[]> call, Metadata headers) {
    forwarded.incrementAndGet();
    CallOptions options = CallOptions.DEFAULT;
    if (Context.current().getDeadline() != null) {
      options = options.withDeadline(Context.current().getDeadline());
    }
    ClientCall<byte[], byte[]> out = upstream.newCall(method, options);
    Object lock = new Object(); // a ServerCall is not safe for concurrent use
    out.start(
        new ClientCall.Listener<>() {
          @Override
          public void onHeaders(Metadata answerHeaders) {
            synchronized (lock) {
              call.sendHeaders(answerHeaders);
            }
          }

          @Override
          public void onMessage(byte[] message) {
            synchronized (lock) {
              call.sendMessage(message);
            }
            out.request(1);
          }

          @Override
          public void onClose(Status status, Metadata trailers) {
            synchronized (lock) {
              call.close(status, trailers);
            }
          }
        },
        headers);
    out.request(1);
    synchronized (lock) {
      call.request(1);
    }
    return new ServerCall.Listener<>() {
      @Override
      public void onMessage(byte[] message) {
        out.sendMessage(message);
        synchronized (lock) {
          call.request(1);
        }
      }

      @Override
      public void onHalfClose() {
        out.halfClose();
      }

      @Override
      public void onCancel() {
        out.cancel("the client cancelled", null);
      }
    };
  }
}
