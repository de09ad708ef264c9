"""The bibliography of the generated reports, in one author-year style.

Text cites a work with :func:`cite`, which writes the parenthetical form
``(Kingma and Ba, 2015)``; :func:`bibliography` then lists exactly the works
whose in-text form occurs in the text, so the reference list and the
citations cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reference:
    """One published work.

    Attributes
    ----------
    authors : tuple of str
        ``"Surname, I. N."`` per author, in publication order.
    year : int or str
        Year of publication, or ``"n.d."`` for an undated data set.
    title : str
        Title in sentence case, without a final full stop.
    venue : str
        Journal, proceedings or publisher, with volume and pages where known.
    """

    authors: tuple[str, ...]
    year: int | str
    title: str
    venue: str

    @property
    def surnames(self) -> list[str]:
        """Surname of every author."""
        return [author.split(",")[0] for author in self.authors]

    @property
    def in_text(self) -> str:
        """``Hansen, 2016``, ``Kingma and Ba, 2015`` or ``Akiba et al., 2019``."""
        names = self.surnames
        if len(names) == 1:
            who = names[0]
        elif len(names) == 2:
            who = f"{names[0]} and {names[1]}"
        else:
            who = f"{names[0]} et al."
        return f"{who}, {self.year}"

    @property
    def entry(self) -> str:
        """The bibliography line: authors (year). Title. Venue."""
        authors = list(self.authors)
        who = authors[0] if len(authors) == 1 else f"{', '.join(authors[:-1])} and {authors[-1]}"
        return f"{who} ({self.year}). {self.title}. {self.venue}"


def _reference(authors: str, year: int | str, title: str, venue: str) -> Reference:
    """Build a :class:`Reference` from authors separated by semicolons."""
    return Reference(tuple(a.strip() for a in authors.split(";")), year, title, venue)


REFERENCES: dict[str, Reference] = {
    "akiba2019": _reference(
        "Akiba, T.; Sano, S.; Yanase, T.; Ohta, T.; Koyama, M.",
        2019,
        "Optuna: A next-generation hyperparameter optimization framework",
        "In *Proceedings of the 25th ACM SIGKDD International Conference on Knowledge "
        "Discovery & Data Mining*, pp. 2623-2631. https://doi.org/10.1145/3292500.3330701",
    ),
    "batista2004": _reference(
        "Batista, G. E. A. P. A.; Prati, R. C.; Monard, M. C.",
        2004,
        "A study of the behavior of several methods for balancing machine learning training data",
        "*ACM SIGKDD Explorations Newsletter*, 6(1), 20-29. https://doi.org/10.1145/1007730.1007735",
    ),
    "benavoli2017": _reference(
        "Benavoli, A.; Corani, G.; Demšar, J.; Zaffalon, M.",
        2017,
        "Time for a change: A tutorial for comparing multiple classifiers through Bayesian "
        "analysis",
        "*Journal of Machine Learning Research*, 18(77), 1-36. "
        "https://jmlr.org/papers/v18/16-305.html",
    ),
    "bergstra2011": _reference(
        "Bergstra, J.; Bardenet, R.; Bengio, Y.; Kégl, B.",
        2011,
        "Algorithms for hyper-parameter optimization",
        "In *Advances in Neural Information Processing Systems 24 (NIPS)*, pp. 2546-2554. "
        "https://papers.nips.cc/paper/4443-algorithms-for-hyper-parameter-optimization",
    ),
    "bergstra2012": _reference(
        "Bergstra, J.; Bengio, Y.",
        2012,
        "Random search for hyper-parameter optimization",
        "*Journal of Machine Learning Research*, 13, 281-305. "
        "https://jmlr.org/papers/v13/bergstra12a.html",
    ),
    "chawla2002": _reference(
        "Chawla, N. V.; Bowyer, K. W.; Hall, L. O.; Kegelmeyer, W. P.",
        2002,
        "SMOTE: Synthetic minority over-sampling technique",
        "*Journal of Artificial Intelligence Research*, 16, 321-357. https://doi.org/10.1613/jair.953",
    ),
    "deb2002": _reference(
        "Deb, K.; Pratap, A.; Agarwal, S.; Meyarivan, T.",
        2002,
        "A fast and elitist multiobjective genetic algorithm: NSGA-II",
        "*IEEE Transactions on Evolutionary Computation*, 6(2), 182-197. "
        "https://doi.org/10.1109/4235.996017",
    ),
    "han2005": _reference(
        "Han, H.; Wang, W.-Y.; Mao, B.-H.",
        2005,
        "Borderline-SMOTE: A new over-sampling method in imbalanced data sets learning",
        "In *Advances in Intelligent Computing (ICIC 2005)*, LNCS 3644, pp. 878-887. Springer. "
        "https://doi.org/10.1007/11538059_91",
    ),
    "hansen2016": _reference(
        "Hansen, N.",
        2016,
        "The CMA evolution strategy: A tutorial",
        "*arXiv preprint* arXiv:1604.00772.",
    ),
    "he2008": _reference(
        "He, H.; Bai, Y.; Garcia, E. A.; Li, S.",
        2008,
        "ADASYN: Adaptive synthetic sampling approach for imbalanced learning",
        "In *IEEE International Joint Conference on Neural Networks (IJCNN)*, pp. 1322-1328. "
        "https://doi.org/10.1109/IJCNN.2008.4633969",
    ),
    "head2021": _reference(
        "Head, T.; Kumar, M.; Nahrstaedt, H.; Louppe, G.; Shcherbatyi, I.",
        2021,
        "scikit-optimize/scikit-optimize (v0.9.0)",
        "Zenodo. https://doi.org/10.5281/zenodo.5565057",
    ),
    "hutter2014": _reference(
        "Hutter, F.; Hoos, H.; Leyton-Brown, K.",
        2014,
        "An efficient approach for assessing hyperparameter importance",
        "In *Proceedings of the 31st International Conference on Machine Learning (ICML)*, "
        "PMLR 32(1), pp. 754-762. https://proceedings.mlr.press/v32/hutter14.html",
    ),
    "kingma2015": _reference(
        "Kingma, D. P.; Ba, J.",
        2015,
        "Adam: A method for stochastic optimization",
        "In *International Conference on Learning Representations (ICLR)*. arXiv:1412.6980.",
    ),
    "lemaitre2017": _reference(
        "Lemaître, G.; Nogueira, F.; Aridas, C. K.",
        2017,
        "Imbalanced-learn: A Python toolbox to tackle the curse of imbalanced datasets in "
        "machine learning",
        "*Journal of Machine Learning Research*, 18(17), 1-5. "
        "https://jmlr.org/papers/v18/16-365.html",
    ),
    "lin2017": _reference(
        "Lin, T.-Y.; Goyal, P.; Girshick, R.; He, K.; Dollár, P.",
        2017,
        "Focal loss for dense object detection",
        "In *Proceedings of the IEEE International Conference on Computer Vision (ICCV)*, "
        "pp. 2980-2988. https://doi.org/10.1109/ICCV.2017.324",
    ),
    "loshchilov2019": _reference(
        "Loshchilov, I.; Hutter, F.",
        2019,
        "Decoupled weight decay regularization",
        "In *International Conference on Learning Representations (ICLR)*. arXiv:1711.05101.",
    ),
    "nogueira2014": _reference(
        "Nogueira, F.",
        2014,
        "Bayesian Optimization: Open source constrained global optimization tool for Python",
        "https://github.com/bayesian-optimization/BayesianOptimization",
    ),
    "paszke2019": _reference(
        "Paszke, A.; Gross, S.; Massa, F.; Lerer, A.; Bradbury, J.; Chanan, G.; Killeen, T.; "
        "Lin, Z.; Gimelshein, N.; Antiga, L.; Desmaison, A.; Köpf, A.; Yang, E.; DeVito, Z.; "
        "Raison, M.; Tejani, A.; Chilamkurthy, S.; Steiner, B.; Fang, L.; Bai, J.; Chintala, S.",
        2019,
        "PyTorch: An imperative style, high-performance deep learning library",
        "In *Advances in Neural Information Processing Systems 32 (NeurIPS)*, pp. 8024-8035. "
        "arXiv:1912.01703.",
    ),
    "pedregosa2011": _reference(
        "Pedregosa, F.; Varoquaux, G.; Gramfort, A.; Michel, V.; Thirion, B.; Grisel, O.; "
        "Blondel, M.; Prettenhofer, P.; Weiss, R.; Dubourg, V.; Vanderplas, J.; Passos, A.; "
        "Cournapeau, D.; Brucher, M.; Perrot, M.; Duchesnay, É.",
        2011,
        "Scikit-learn: Machine learning in Python",
        "*Journal of Machine Learning Research*, 12, 2825-2830. "
        "https://jmlr.org/papers/v12/pedregosa11a.html",
    ),
    "snoek2012": _reference(
        "Snoek, J.; Larochelle, H.; Adams, R. P.",
        2012,
        "Practical Bayesian optimization of machine learning algorithms",
        "In *Advances in Neural Information Processing Systems 25 (NIPS)*, pp. 2951-2959. "
        "arXiv:1206.2944.",
    ),
    "tieleman2012": _reference(
        "Tieleman, T.; Hinton, G.",
        2012,
        "Lecture 6.5 - RMSprop: Divide the gradient by a running average of its recent magnitude",
        "*COURSERA: Neural Networks for Machine Learning*, 4(2), 26-31.",
    ),
    "tietz2017": _reference(
        "Tietz, M.; Fan, T. J.; Nouri, D.; Bossan, B.; skorch Developers",
        2017,
        "skorch: A scikit-learn compatible neural network library that wraps PyTorch",
        "https://skorch.readthedocs.io/",
    ),
    "ament2023": _reference(
        "Ament, S.; Daulton, S.; Eriksson, D.; Balandat, M.; Bakshy, E.",
        2023,
        "Unexpected improvements to expected improvement for Bayesian optimization",
        "In *Advances in Neural Information Processing Systems 36 (NeurIPS)*. arXiv:2310.20708.",
    ),
    "breiman2001": _reference(
        "Breiman, L.",
        2001,
        "Random forests",
        "*Machine Learning*, 45(1), 5-32. https://doi.org/10.1023/A:1010933404324",
    ),
    "cortez2009": _reference(
        "Cortez, P.; Cerdeira, A.; Almeida, F.; Matos, T.; Reis, J.",
        2009,
        "Modeling wine preferences by data mining from physicochemical properties",
        "*Decision Support Systems*, 47(4), 547-553. https://doi.org/10.1016/j.dss.2009.05.016",
    ),
    "cover1967": _reference(
        "Cover, T.; Hart, P.",
        1967,
        "Nearest neighbor pattern classification",
        "*IEEE Transactions on Information Theory*, 13(1), 21-27. "
        "https://doi.org/10.1109/TIT.1967.1053964",
    ),
    "cox1958": _reference(
        "Cox, D. R.",
        1958,
        "The regression analysis of binary sequences",
        "*Journal of the Royal Statistical Society: Series B*, 20(2), 215-242. "
        "https://doi.org/10.1111/j.2517-6161.1958.tb00292.x",
    ),
    "demsar2006": _reference(
        "Demšar, J.",
        2006,
        "Statistical comparisons of classifiers over multiple data sets",
        "*Journal of Machine Learning Research*, 7, 1-30. "
        "https://jmlr.org/papers/v7/demsar06a.html",
    ),
    "efron1979": _reference(
        "Efron, B.",
        1979,
        "Bootstrap methods: Another look at the jackknife",
        "*The Annals of Statistics*, 7(1), 1-26. https://doi.org/10.1214/aos/1176344552",
    ),
    "efron1987": _reference(
        "Efron, B.",
        1987,
        "Better bootstrap confidence intervals",
        "*Journal of the American Statistical Association*, 82(397), 171-185. "
        "https://doi.org/10.1080/01621459.1987.10478410",
    ),
    "friedman1937": _reference(
        "Friedman, M.",
        1937,
        "The use of ranks to avoid the assumption of normality implicit in the analysis of "
        "variance",
        "*Journal of the American Statistical Association*, 32(200), 675-701. "
        "https://doi.org/10.1080/01621459.1937.10503522",
    ),
    "holm1979": _reference(
        "Holm, S.",
        1979,
        "A simple sequentially rejective multiple test procedure",
        "*Scandinavian Journal of Statistics*, 6(2), 65-70. https://www.jstor.org/stable/4615733",
    ),
    "ibm-telecust": _reference(
        "IBM, [Developer Skills Network]",
        "n.d.",
        "teleCust1000t: telecom customer data, course materials of Machine Learning with Python "
        "(ML0101EN)",
        "The copy used, its source and checksum: data/README.md of this project.",
    ),
    "ioffe2015": _reference(
        "Ioffe, S.; Szegedy, C.",
        2015,
        "Batch normalization: Accelerating deep network training by reducing internal "
        "covariate shift",
        "In *Proceedings of the 32nd International Conference on Machine Learning (ICML)*, "
        "PMLR 37, pp. 448-456. arXiv:1502.03167.",
    ),
    "jones1998": _reference(
        "Jones, D. R.; Schonlau, M.; Welch, W. J.",
        1998,
        "Efficient global optimization of expensive black-box functions",
        "*Journal of Global Optimization*, 13(4), 455-492. https://doi.org/10.1023/A:1008306431147",
    ),
    "sobol1967": _reference(
        "Sobol', I. M.",
        1967,
        "On the distribution of points in a cube and the approximate evaluation of integrals",
        "*USSR Computational Mathematics and Mathematical Physics*, 7(4), 86-112. "
        "https://doi.org/10.1016/0041-5553(67)90144-9",
    ),
    "srinivas2010": _reference(
        "Srinivas, N.; Krause, A.; Kakade, S. M.; Seeger, M.",
        2010,
        "Gaussian process optimization in the bandit setting: No regret and experimental design",
        "In *Proceedings of the 27th International Conference on Machine Learning (ICML)*, "
        "pp. 1015-1022. arXiv:0912.3995.",
    ),
    "srivastava2014": _reference(
        "Srivastava, N.; Hinton, G.; Krizhevsky, A.; Sutskever, I.; Salakhutdinov, R.",
        2014,
        "Dropout: A simple way to prevent neural networks from overfitting",
        "*Journal of Machine Learning Research*, 15(56), 1929-1958. "
        "https://jmlr.org/papers/v15/srivastava14a.html",
    ),
    "student1908": _reference(
        "Student, [W. S. Gosset]",
        1908,
        "The probable error of a mean",
        "*Biometrika*, 6(1), 1-25. https://doi.org/10.1093/biomet/6.1.1",
    ),
    "wilcoxon1945": _reference(
        "Wilcoxon, F.",
        1945,
        "Individual comparisons by ranking methods",
        "*Biometrics Bulletin*, 1(6), 80-83. https://doi.org/10.2307/3001968",
    ),
}
"""Every work a report may cite, by key."""


def cite(*keys: str) -> str:
    """Return the parenthetical citation of ``keys``, e.g. ``(Chawla et al., 2002)``.

    Raises
    ------
    KeyError
        For a key that is not in :data:`REFERENCES`.
    """
    return "(" + "; ".join(REFERENCES[key].in_text for key in keys) + ")"


def cited(text: str) -> list[Reference]:
    """Return the works cited in ``text``, in bibliography order (surname, then year)."""
    found = [ref for ref in REFERENCES.values() if ref.in_text in text]
    return sorted(found, key=lambda ref: (ref.surnames, str(ref.year)))


def bibliography(text: str) -> str:
    """Return the Markdown reference list of the works cited in ``text`` (empty if none)."""
    return "\n".join(f"- {ref.entry}" for ref in cited(text))
