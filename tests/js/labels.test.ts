import { describe, expect, it } from "vitest";
import { DE, EN, labelsFor } from "../../js/core/labels";

describe("labels", () => {
  it("German and English have the same complete key set with non-empty texts", () => {
    expect(Object.keys(DE).sort()).toEqual(Object.keys(EN).sort());
    for (const v of [...Object.values(EN), ...Object.values(DE)]) expect(v.trim()).not.toBe("");
  });
  it("uses the seed's German terms", () => {
    expect([DE.accept, DE.reject, DE.ignore, DE.partyAction, DE.disposition, DE.note, DE.end, DE.done, DE.send]).toEqual([
      "Annehmen", "Ablehnen", "Ignorieren", "Teilnehmeraktion", "Klassifizierungscode", "Notiz", "Beenden", "Fertig", "Senden",
    ]);
  });
  it("says Rückfrage as the seed does, and speaks gender-neutrally of team members", () => {
    expect([DE.consult, DE.consultation, DE.consultToConference, DE.consultToTransfer]).toEqual([
      "Rückfrage", "Rückfrage", "In Konferenz umwandeln", "An diese Person weiterleiten",
    ]);
    for (const v of Object.values(DE)) expect(v).not.toMatch(/Rücksprache|Kolleg|\bihn\b/);
  });
  it("falls back to English for unknown locales", () => {
    expect(labelsFor("fr")).toBe(EN);
  });
});
