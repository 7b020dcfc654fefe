"""Distances on the Earth's surface, for routing by radius and for the per-km part of a cost profile."""

from __future__ import annotations

from collections.abc import Sequence
from math import asin, cos, radians, sin, sqrt

EARTH_RADIUS_KM = 6371.0

# Geographic centre (lat, lon) of each country, for an address or location without coordinates.
# Good enough to rank a Dutch warehouse before a Polish one; never good enough for a radius of a few km.
COUNTRY_CENTROIDS: dict[str, tuple[float, float]] = {
    # European Union
    "AT": (47.516, 14.550),
    "BE": (50.504, 4.470),
    "BG": (42.734, 25.486),
    "CY": (35.126, 33.430),
    "CZ": (49.817, 15.473),
    "DE": (51.166, 10.452),
    "DK": (56.264, 9.502),
    "EE": (58.595, 25.014),
    "ES": (40.464, -3.749),
    "FI": (61.924, 25.748),
    "FR": (46.228, 2.214),
    "GR": (39.074, 21.824),
    "HR": (45.100, 15.200),
    "HU": (47.162, 19.503),
    "IE": (53.413, -8.244),
    "IT": (41.872, 12.567),
    "LT": (55.169, 23.881),
    "LU": (49.815, 6.130),
    "LV": (56.880, 24.604),
    "MT": (35.937, 14.375),
    "NL": (52.133, 5.291),
    "PL": (51.919, 19.145),
    "PT": (39.400, -8.224),
    "RO": (45.943, 24.967),
    "SE": (60.128, 18.644),
    "SI": (46.151, 14.995),
    "SK": (48.669, 19.699),
    # rest of the European Economic Area
    "IS": (64.963, -19.021),
    "LI": (47.166, 9.555),
    "NO": (60.472, 8.469),
    # others we sell to
    "GB": (55.378, -3.436),
    "CH": (46.818, 8.228),
    "US": (37.090, -95.713),
    "CA": (56.130, -106.347),
}


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance by the haversine formula on a sphere of radius 6371.0 km."""
    phi1, phi2 = radians(lat1), radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = radians(lon2 - lon1) / 2
    a = sin(half_dphi) ** 2 + cos(phi1) * cos(phi2) * sin(half_dlambda) ** 2
    # min(): rounding can push `a` a hair above 1 for antipodal points, and asin would raise.
    return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(a)))


def point_for(latitude: float | None, longitude: float | None, country: str) -> tuple[float, float] | None:
    """Exact coordinates when both are given, else the country's centre, else None (unknown)."""
    if latitude is not None and longitude is not None:
        return (float(latitude), float(longitude))
    return COUNTRY_CENTROIDS.get(country.strip().upper())


def distances_from(
    origin: tuple[float, float] | None, points: Sequence[tuple[float, float] | None]
) -> list[float | None]:
    """distance_km from one point to each of many (None where either end is unknown), with the
    origin's trigonometry done once: sourcing measures every location against each order."""
    if origin is None:
        return [None] * len(points)
    phi0 = radians(origin[0])
    cos0, lon0 = cos(phi0), origin[1]
    result: list[float | None] = []
    for point in points:
        if point is None:
            result.append(None)
            continue
        phi = radians(point[0])
        a = sin((phi - phi0) / 2) ** 2 + cos0 * cos(phi) * sin(radians(point[1] - lon0) / 2) ** 2
        result.append(2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(a))))
    return result
