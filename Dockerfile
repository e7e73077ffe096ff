# syntax=docker/dockerfile:1
# Build: docker build -t partnerdeals .
# Run:   ADMIN=$(openssl rand -hex 32); docker run -d -p 8080:8080 -v partnerdeals-data:/data -e Auth__BootstrapAdminKey=$ADMIN partnerdeals
#        echo "$ADMIN" is the first admin key (the service stores only its hash).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files alone, so the layer is reused until a dependency changes.
COPY Directory.Build.props Directory.Packages.props ./
# Every project the API references, or the restore cannot resolve them and the publish stops with NETSDK1004.
COPY src/PartnerDeals.Api/PartnerDeals.Api.csproj src/PartnerDeals.Api/
COPY src/PartnerDeals.Matching/PartnerDeals.Matching.csproj src/PartnerDeals.Matching/
RUN dotnet restore src/PartnerDeals.Api/PartnerDeals.Api.csproj
COPY src/ src/
RUN dotnet publish src/PartnerDeals.Api/PartnerDeals.Api.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
# curl only for the HEALTHCHECK below.
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data && chown app:app /data
WORKDIR /app
COPY --from=build /app ./
USER app
ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    ConnectionStrings__PartnerDeals="Data Source=/data/partnerdeals.db"
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/health/ready || exit 1
ENTRYPOINT ["dotnet", "PartnerDeals.Api.dll"]
